/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CRC-32C (Castagnoli), the checksum of the migration stream.
 */
#ifndef MIGD_CRC32C_H
#define MIGD_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * zlib-style running value: start with 0, feed the result back in.
 * kvmmig_crc32c(0, "123456789", 9) == 0xe3069283.
 */
uint32_t kvmmig_crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable version, for tests that compare it with the fast one. */
uint32_t kvmmig_crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif /* MIGD_CRC32C_H */
