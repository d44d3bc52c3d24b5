/* SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0 */
/*
 * compat.h - what userspace needs before it can include the on-disk header.
 *
 * sharefs_fs.h uses the kernel's __le16/__le32/__le64/__u8; <linux/types.h>
 * provides them on every Linux libc.  The helpers below convert host values
 * to the on-disk little-endian form; they compile to nothing on x86.
 */
#ifndef SHAREFS_TOOLS_COMPAT_H
#define SHAREFS_TOOLS_COMPAT_H

#include <linux/types.h>
#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include "sharefs_fs.h"

#define SHAREFS_STATIC_ASSERT(e)	_Static_assert(e, #e)

/* Every on-disk struct, checked at compile time (the header's one list). */
#define SHAREFS_DIRENT_SIZE	12
static inline void sharefs_check_ondisk_sizes(void)
{
	SHAREFS_CHECK_ONDISK_SIZES(SHAREFS_STATIC_ASSERT);
}

static inline __le16 cpu_to_le16(uint16_t v) { return (__le16)htole16(v); }
static inline __le32 cpu_to_le32(uint32_t v) { return (__le32)htole32(v); }
static inline __le64 cpu_to_le64(uint64_t v) { return (__le64)htole64(v); }
static inline uint16_t le16_to_cpu(__le16 v) { return le16toh((uint16_t)v); }
static inline uint32_t le32_to_cpu(__le32 v) { return le32toh((uint32_t)v); }
static inline uint64_t le64_to_cpu(__le64 v) { return le64toh((uint64_t)v); }

#endif /* SHAREFS_TOOLS_COMPAT_H */
