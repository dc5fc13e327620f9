#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Per-thread, as in rwkv.cpp: a failing load on one thread never clobbers another thread's error. */
static _Thread_local struct rwkv_error_slot global_slot;
/* Stored inverted so that the zero-initialised thread-local means "print". */
static _Thread_local bool global_print_off;

struct rwkv_error_slot * rwkv_global_error(void) {
    return &global_slot;
}

bool rwkv_global_print_errors(void) {
    return !global_print_off;
}

void rwkv_set_global_print_errors(bool print) {
    global_print_off = !print;
}

void rwkv_error_clear(struct rwkv_error_slot * slot) {
    slot->flags = RWKV_ERROR_NONE;
    slot->message[0] = '\0';
}

bool rwkv_error_set(struct rwkv_error_slot * slot, bool print, enum rwkv_error_flags flags, const char * format, ...) {
    slot->flags = (enum rwkv_error_flags)(slot->flags | flags);
    va_list args;
    va_start(args, format);
    vsnprintf(slot->message, sizeof slot->message, format, args);
    va_end(args);
    if (print) {
        fprintf(stderr, "rwkv: error 0x%x: %s\n", (unsigned)flags, slot->message);
    }
    return false;
}

void rwkv_log(bool print, const char * format, ...) {
    if (!print) {
        return;
    }
    va_list args;
    va_start(args, format);
    fputs("rwkv: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}
