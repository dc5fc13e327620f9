/*
 * Error slots: flags plus a readable message. Each context has one; each thread has a global one
 * (for load, clone and quantize, which have no context yet). Library code reports failures with
 * rwkv_error_set and never aborts.
 */
#ifndef RWKV_ERROR_H
#define RWKV_ERROR_H

#include <stdbool.h>

#include "rwkv.h"

#define RWKV_ERROR_MESSAGE_SIZE 512

struct rwkv_error_slot {
    enum rwkv_error_flags flags;
    char message[RWKV_ERROR_MESSAGE_SIZE];
};

/* The calling thread's global slot and print flag (print starts on). */
struct rwkv_error_slot * rwkv_global_error(void);
bool rwkv_global_print_errors(void);
void rwkv_set_global_print_errors(bool print);

void rwkv_error_clear(struct rwkv_error_slot * slot);

/* mingw builds use mingw's C99 printf (__USE_MINGW_ANSI_STDIO), whose format checks are gnu_printf. */
#if defined(__MINGW32__)
#define RWKV_PRINTF_STYLE gnu_printf
#else
#define RWKV_PRINTF_STYLE printf
#endif

/*
 * ORs flags into the slot and replaces its message (printf-style). If print is true the message is
 * also written to stderr. Always returns false so that callers can write `return rwkv_error_set(...)`.
 */
#if defined(__GNUC__)
__attribute__((format(RWKV_PRINTF_STYLE, 4, 5)))
#endif
bool rwkv_error_set(struct rwkv_error_slot * slot, bool print, enum rwkv_error_flags flags, const char * format, ...);

/* Prints an informational line to stderr (quantizer progress, skipped tensors) when print is on. */
#if defined(__GNUC__)
__attribute__((format(RWKV_PRINTF_STYLE, 2, 3)))
#endif
void rwkv_log(bool print, const char * format, ...);

#endif
