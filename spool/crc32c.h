/*
 * spool/crc32c.h - CRC-32C (Castagnoli), the checksum of spool records.
 *
 * Hardware CRC32 instruction (SSE4.2) when the CPU has it, else a
 * slicing-by-8 table. Same result either way; crc32c("123456789") is
 * 0xe3069283. Incremental: crc = spool_crc32c(crc, p, n) over successive
 * pieces, starting from 0.
 *
 * Thread-safety: the table is built once (pthread_once); call from any
 * thread. No errors.
 */
#ifndef SLUICE_SPOOL_CRC32C_H
#define SLUICE_SPOOL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t spool_crc32c(uint32_t crc, const void *data, size_t len);

/* The table version, always (for tests: both paths must agree). */
uint32_t spool_crc32c_portable(uint32_t crc, const void *data, size_t len);

#endif
