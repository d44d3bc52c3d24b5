// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * crc32c.c - CRC-32C (Castagnoli), reflected polynomial 0x82F63B78.
 *
 * EROFS checksums its superblock with the kernel's crc32c(~0, ...), which
 * takes the running value as the seed and applies no final inversion; this
 * function has the same contract.  A byte-wise table is fast enough for one
 * superblock per image.
 */
#include <pthread.h>
#include "mkfs.h"

static uint32_t crc32c_table[256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_init_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
		crc32c_table[i] = c;
	}
}

uint32_t sharefs_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&crc32c_once, crc32c_init_table);
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}
