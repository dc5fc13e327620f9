/*
 * Windows: loads the JNI library the way a JVM does (LoadLibraryW) and looks up a few of its
 * entry points. Loading fails if the DLL imports anything Windows cannot find on its own (a
 * libstdc++, libgcc or winpthread DLL next to it, say), which is exactly what a user must never
 * meet. Built only for Windows targets and run by ctest (under wine) when the build names the
 * DLL: -DRWKV_JNI_LIBRARY=path (the windows-x86_64 Maven profile does).
 */
#include <stdio.h>
#include <string.h>
#include <windows.h>

int main(int argc, char ** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: jni_library_loads DLL\n");
        return 2;
    }
    /* A POSIX path (the build machine's) is a path on wine's Z: drive, which maps /. */
    char path[2048];
    snprintf(path, sizeof path, "%s%s", argv[1][0] == '/' ? "Z:" : "", argv[1]);
    wchar_t wide[2048];
    if (MultiByteToWideChar(CP_UTF8, 0, path, -1, wide, 2048) <= 0) {
        fprintf(stderr, "bad path %s\n", path);
        return 1;
    }
    HMODULE library = LoadLibraryW(wide);
    if (library == NULL) {
        fprintf(stderr, "LoadLibraryW(%s) failed: Windows error %lu\n", path, (unsigned long)GetLastError());
        return 1;
    }
    /* The JVM's first call into it, and JavaCPP's own (undecorated names: linked with --kill-at). */
    static const char * const symbols[] = { "JNI_OnLoad", "JNI_OnLoad_jnijavacpp" };
    int failures = 0;
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        FARPROC address = GetProcAddress(library, symbols[i]);
        printf("%-40.40s %s\n", symbols[i], address != NULL ? "found" : "MISSING");
        failures += address == NULL;
    }
    FreeLibrary(library);
    printf("jni_library_loads: %s\n", failures == 0 ? "all checks passed" : "entry points missing");
    return failures == 0 ? 0 : 1;
}
