// SPDX-License-Identifier: GPL-2.0
/*
 * CRC-32C: slicing-by-8 tables in software, and the SSE4.2 crc32
 * instruction where the CPU has it (every x86-64 that runs KVM guests
 * worth migrating), since every byte of page data goes through here.
 */

#include "crc32c.h"

#define CRC32C_POLY	0x82f63b78u	/* reflected 0x1edc6f41 */

static uint32_t table[8][256];
static int have_hw __attribute__((unused));

__attribute__((constructor))
static void crc32c_init(void)
{
#if defined(__x86_64__)
	/* Constructors may run before libgcc has probed the CPU. */
	__builtin_cpu_init();
	have_hw = __builtin_cpu_supports("sse4.2");
#endif
	for (unsigned int i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC32C_POLY & -(c & 1));
		table[0][i] = c;
	}
	for (unsigned int i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^
				      table[0][table[t - 1][i] & 0xff];
}

static uint32_t crc32c_sw_raw(uint32_t c, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		/* Assemble little-endian words by hand: p may be unaligned. */
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);

		c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		    table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		    table[3][p[4]] ^ table[2][p[5]] ^
		    table[1][p[6]] ^ table[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
	return c;
}

uint32_t kvmmig_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	return ~crc32c_sw_raw(~crc, buf, len);
}

#if defined(__x86_64__)
#include <string.h>

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw_raw(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t c64 = c;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
		p += 8;
		len -= 8;
	}
	c = (uint32_t)c64;
	while (len--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}

uint32_t kvmmig_crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (have_hw)
		return ~crc32c_hw_raw(~crc, buf, len);
	return ~crc32c_sw_raw(~crc, buf, len);
}
#else
uint32_t kvmmig_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return kvmmig_crc32c_sw(crc, buf, len);
}
#endif
