// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: what `sipalgctl reflect` and `sipalgctl probe` do with
 * bytes from the network.  The first byte picks the path:
 *   0  a request as it arrives (almost never a valid MAC): pw_answer()
 *   1  the rest behind a header with a valid MAC whose callback field is
 *      the input's first line: pw_answer(), and its reply must open again
 *      (pw_reply_open()) to exactly the request, at most
 *      PW_REPLY_OVERHEAD bytes longer; a request for INVITEs ("i" form)
 *      must be at least PW_INVITE_REQUEST_MIN bytes and ask for one delay
 *   2  a reply as the probe receives it: pw_reply_open()
 *   3  a callback as the probe receives it: pw_callback_parse() (OPTIONS
 *      or INVITE: the method is read from the input)
 *   4  TCP framing: pw_stream_message()
 *   5  what the reflector received, against the probe's INVITE: diff_message()
 *   6  the callbacks the reflector builds, to the input's first line as
 *      target: at most PW_CALLBACK_MAX / PW_INVITE_MAX bytes, and each
 *      parses back to what was built
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_diff.h"
#include "probe_msgs.h"
#include "probe_wire.h"
#include "sha256.h"

static const struct pw_key key = { (const uint8_t *)"fuzz-token", 10 };
static const uint8_t nonce[PW_NONCE_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static uint8_t out[PW_MAX_REQUEST + PW_REPLY_OVERHEAD];

static void answer_raw(const uint8_t *d, size_t n)
{
	struct pw_request req;
	size_t len = pw_answer(&key, d, n, "UDP", "203.0.113.1:5060", out, sizeof(out), &req);

	if (len > n + PW_REPLY_OVERHEAD)
		abort();
}

/* A valid header with the input's first line as callbacks, then the rest. */
static void answer_valid(const uint8_t *d, size_t n)
{
	static uint8_t in[PW_MAX_REQUEST + 256];
	const uint8_t *nl = memchr(d, '\n', n < 24 ? n : 24);
	size_t cblen = nl ? (size_t)(nl - d) : 0, hlen, len;
	char text[96], nhex[33], mac_hex[65];
	struct pw_request req;
	struct pw_reply reply;
	uint8_t mac[SHA256_LEN];
	struct hmac_sha256 h;
	unsigned int i;

	if (!nl)
		return;
	for (i = 0; i < PW_NONCE_LEN; i++)
		snprintf(nhex + 2 * i, 3, "%02x", nonce[i]);
	snprintf(text, sizeof(text), "sipalg-probe/1 %s %.*s", nhex, (int)cblen, (const char *)d);
	hmac_sha256_init(&h, key.token, key.len);
	hmac_sha256_update(&h, text, strlen(text));
	hmac_sha256_final(&h, mac);
	for (i = 0; i < SHA256_LEN; i++)
		snprintf(mac_hex + 2 * i, 3, "%02x", mac[i]);
	hlen = (size_t)snprintf((char *)in, sizeof(in), "X-Sipalg-Probe: 1 %s %.*s %s\r\n",
				nhex, (int)cblen, (const char *)d, mac_hex);
	n -= cblen + 1;
	if (hlen + n > sizeof(in))
		return;
	memcpy(in + hlen, nl + 1, n);
	len = pw_answer(&key, in, hlen + n, "TCP", "[2001:db8::1]:65535", out, sizeof(out), &req);
	if (!len)
		return;
	if (len > hlen + n + PW_REPLY_OVERHEAD || memcmp(req.nonce, nonce, PW_NONCE_LEN) ||
	    (req.invite && (hlen + n < PW_INVITE_REQUEST_MIN || req.n_callbacks != 1)))
		abort();
	if (pw_reply_open(&key, nonce, out, len, &reply) != PW_REPLY_OK ||
	    reply.received_len != hlen + n || memcmp(reply.received, in, hlen + n))
		abort();
	free(reply.received);
}

static void diff_against_invite(const uint8_t *d, size_t n)
{
	static const struct probe_addrs a = { "192.168.1.2", false, 5060, "203.0.113.2" };
	static char sent[8192];
	struct change_list l = { 0 };
	size_t len = probe_msg_build(PROBE_INVITE, false, &a, "0123456789abcdef0123456789abcdef",
				     "", sent, sizeof(sent));

	diff_message(&l, "INVITE", false, (const uint8_t *)sent, len, d, n);
	changes_free(&l);
}

static void callbacks_built(const uint8_t *d, size_t n)
{
	const uint8_t *nl = memchr(d, '\n', n < PW_SEEN_MAX ? n : PW_SEEN_MAX);
	struct pw_callback_id id = { .index = 1 }, got;
	char target[PW_SEEN_MAX], msg[PW_INVITE_MAX + 1];
	size_t len;
	int kind;

	if (!nl || memchr(d, '\0', (size_t)(nl - d)))
		return;
	snprintf(target, sizeof(target), "%.*s", (int)(nl - d), (const char *)d);
	memcpy(id.nonce, nonce, PW_NONCE_LEN);
	for (kind = 0; kind < 4; kind++) {
		id.invite = kind & 1;
		id.other_port = kind & 2;
		len = pw_callback(&key, &id, target, msg, sizeof(msg));
		if (len > (id.invite ? PW_INVITE_MAX : PW_CALLBACK_MAX))
			abort();
		if (len && (!pw_callback_parse(&key, (uint8_t *)msg, len, &got) ||
			    got.invite != id.invite || got.other_port != id.other_port || got.index != 1))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_callback_id id;
	struct pw_reply reply;
	bool malformed;

	if (!size)
		return 0;
	switch (data[0] % 7) {
	case 0:
		answer_raw(data + 1, size - 1);
		break;
	case 1:
		answer_valid(data + 1, size - 1);
		break;
	case 2:
		if (pw_reply_open(&key, nonce, data + 1, size - 1, &reply) != PW_REPLY_FORGED)
			free(reply.received);
		break;
	case 3:
		pw_callback_parse(&key, data + 1, size - 1, &id);
		break;
	case 4:
		if (pw_stream_message(data + 1, size - 1, &malformed) > size - 1)
			abort();
		break;
	case 5:
		diff_against_invite(data + 1, size - 1);
		break;
	default:
		callbacks_built(data + 1, size - 1);
		break;
	}
	return 0;
}
