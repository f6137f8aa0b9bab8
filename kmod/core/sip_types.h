/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only environment the core sees: fixed-width integers, bool, size_t and
 * memcpy/memcmp/memset.  Everything else in kmod/core/ is plain C that
 * compiles unchanged in the kernel and in userspace.
 */
#ifndef SIPALG_SIP_TYPES_H
#define SIPALG_SIP_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#endif

#endif /* SIPALG_SIP_TYPES_H */
