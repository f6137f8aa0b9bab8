/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for the probe's and the
 * reflector's authentication.  Written here rather than linking libcrypto:
 * sipalgctl runs on routers (OpenWrt) where a 3 MB crypto library for one
 * hash is a real cost, and 150 lines checked against the RFC 4231 vectors
 * (tests/unit) are not.
 */
#ifndef SIPALG_SHA256_H
#define SIPALG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN	32
#define SHA256_BLOCK	64

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;		/* hashed so far */
	uint8_t buf[SHA256_BLOCK];
	size_t fill;		/* bytes in buf */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);

struct hmac_sha256 {
	struct sha256 inner;
	uint8_t opad_key[SHA256_BLOCK];
};

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t key_len);
void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len);
void hmac_sha256_final(struct hmac_sha256 *h, uint8_t out[SHA256_LEN]);

/* Constant-time comparison of two MACs: 0 when equal. */
int mac_differ(const uint8_t *a, const uint8_t *b, size_t len);

#endif
