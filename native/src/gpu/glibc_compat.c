/*
 * Keeps the CUDA variant loadable on glibc 2.35 (Ubuntu 22.04, a common GPU host).
 *
 * CUDA's static runtime uses copy-on-write std::string, which pulls libstdc++'s std::random_device
 * in when libstdc++ is linked statically, and Debian 12's libstdc++ draws its entropy from
 * arc4random, new in glibc 2.36. This hidden definition (the same contract: 32 random bits from
 * the kernel, never failing silently) satisfies that reference inside our library, so the library
 * needs nothing newer than 2.35. The JNI link asks for it with -Wl,--undefined=arc4random
 * (jrwkv.pom.xml, cuda profile), so it is taken from the archive before libstdc++ is read.
 */
#if defined(__linux__)
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

__attribute__((visibility("hidden"))) uint32_t arc4random(void) {
    uint32_t value = 0;
    unsigned char * bytes = (unsigned char *)&value;
    size_t filled = 0;
    while (filled < sizeof value) {
        ssize_t got = getrandom(bytes + filled, sizeof value - filled, 0);
        if (got > 0) {
            filled += (size_t)got;
        } else if (got < 0 && errno != EINTR) {
            fprintf(stderr, "jrwkv: getrandom failed (errno %d)\n", errno);
            abort(); /* as glibc's arc4random does when the kernel gives no randomness */
        }
    }
    return value;
}
#endif
