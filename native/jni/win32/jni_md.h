/*
 * The machine-dependent part of jni.h for 64-bit Windows, for cross-compiling the JNI library with
 * mingw on a machine whose JDK has only its own platform's jni_md.h (the Linux one defines jlong as
 * long, which is 32 bits on Windows). Written from the JNI specification: exported functions use
 * the Windows DLL export attribute, calls the __stdcall convention (the only one on x86-64),
 * jint is 32 bits, jlong 64 bits and jbyte a signed 8-bit integer.
 */
#ifndef JRWKV_JNI_MD_WIN32_H
#define JRWKV_JNI_MD_WIN32_H

#ifndef _WIN32
#error "this jni_md.h is for Windows targets only"
#endif

#define JNIEXPORT __declspec(dllexport)
#define JNIIMPORT __declspec(dllimport)
#define JNICALL __stdcall

typedef int jint;
typedef long long jlong;
typedef signed char jbyte;

#endif
