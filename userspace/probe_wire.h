/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The wire format between `sipalgctl probe` and `sipalgctl reflect`.
 *
 * A probe request is an ordinary SIP message (so that every ALG on the
 * path treats it as SIP) with one extra header:
 *
 *   X-Sipalg-Probe: 1 NONCE CALLBACKS MAC
 *
 * NONCE is 32 hex digits the probe chose; CALLBACKS is "-" or up to two
 * delays in milliseconds ("20000" or "9000,27000"): after each, the
 * reflector sends an OPTIONS to the address the request came from, once
 * from the port it arrived on and once from another port.  "i" and one
 * delay ("i1000") asks for an INVITE with SDP instead, an incoming call as
 * a router's ALG sees one; the INVITE is at most PW_INVITE_MAX bytes and
 * the request that asks for it must be at least PW_INVITE_REQUEST_MIN, so
 * the two INVITEs together are never larger than the request (the "i"
 * form is an addition: a reflector older than it ignores such a request,
 * and every other request is what it was).  MAC is
 * HMAC-SHA256(token, "sipalg-probe/1 NONCE CALLBACKS") in hex.  No
 * addresses in it, so no ALG has a reason to touch it.
 *
 * The reply is a small SIP response whose body carries, sealed (XORed with
 * an HMAC keystream of the token and NONCE, and MACed), the transport and
 * source address the reflector saw and the exact bytes it received: an ALG
 * on the way back cannot find an address in it to rewrite, and a reply it
 * rewrote or forged fails the MAC.  The same source address is also in a
 * plain header, X-Sipalg-Seen, as the bait a rewriting ALG bites on.  The
 * reply is never more than PW_REPLY_OVERHEAD bytes larger than the
 * request: the reflector cannot be used to amplify.
 *
 * A callback is an OPTIONS (or INVITE) carrying
 *   X-Sipalg-Callback: NONCE INDEX same|other MAC
 * with MAC = HMAC-SHA256(token, "sipalg-callback/1 NONCE INDEX same|other"),
 * or "sipalg-invite/1 ..." for an INVITE: the method is authenticated too.
 */
#ifndef SIPALG_PROBE_WIRE_H
#define SIPALG_PROBE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_NONCE_LEN		16
#define PW_MAX_CALLBACKS	2
#define PW_MAX_DELAY_MS		600000u	/* a callback is at most 10 min away */
#define PW_MAX_REQUEST		16384	/* larger requests are not answered */
#define PW_REPLY_OVERHEAD	512	/* reply length <= request length + this */
#define PW_SEEN_MAX		64	/* "UDP [v6]:port" */
#define PW_CALLBACK_MAX		512	/* bytes of one callback OPTIONS */
#define PW_INVITE_MAX		700	/* bytes of one callback INVITE */
#define PW_INVITE_REQUEST_MIN	(2 * PW_INVITE_MAX)	/* a request asking for INVITEs: it fits one 1500-byte packet */

struct pw_key {
	const uint8_t *token;
	size_t len;
};

struct pw_request {
	uint8_t nonce[PW_NONCE_LEN];
	unsigned int n_callbacks;
	uint32_t delay_ms[PW_MAX_CALLBACKS];
	bool invite;		/* INVITE callbacks (then n_callbacks is 1), not OPTIONS */
};

/* "X-Sipalg-Probe: ...\r\n" into out; returns its length (0 if cap is short). */
size_t pw_request_header(const struct pw_key *key, const struct pw_request *req,
			 char *out, size_t cap);

/*
 * Finds and checks the X-Sipalg-Probe header of a received request.
 * Returns true when it is present, well formed and its MAC is right.
 * Reads only buf[0 .. len).
 */
bool pw_request_parse(const struct pw_key *key, const uint8_t *buf, size_t len,
		      struct pw_request *req);

/*
 * The reflector's answer to a request that arrived over TRANSPORT ("UDP"
 * or "TCP") from SEEN ("203.0.113.1:5060"): the reply in out, its length
 * returned; 0 when the request is not to be answered (no valid header, too
 * large, cap short).  *req receives the parsed header.
 */
size_t pw_answer(const struct pw_key *key, const uint8_t *in, size_t len,
		 const char *transport, const char *seen, uint8_t *out,
		 size_t cap, struct pw_request *req);

enum pw_reply_status {
	PW_REPLY_OK = 0,
	PW_REPLY_FORGED,		/* not a reply to this request, or altered */
	PW_REPLY_SEEN_REWRITTEN,	/* genuine, but X-Sipalg-Seen was rewritten on the way */
};

struct pw_reply {
	char transport[8];
	char seen[PW_SEEN_MAX];		/* what the reflector saw, sealed */
	char seen_plain[PW_SEEN_MAX];	/* what X-Sipalg-Seen says on arrival */
	uint8_t *received;		/* malloc'd: the bytes the reflector received */
	size_t received_len;
};

/*
 * Opens a reply (buf[0 .. len), one whole message) to the request with
 * NONCE.  On PW_REPLY_OK and PW_REPLY_SEEN_REWRITTEN, r->received must be
 * freed by the caller.
 */
enum pw_reply_status pw_reply_open(const struct pw_key *key,
				   const uint8_t nonce[PW_NONCE_LEN],
				   const uint8_t *buf, size_t len,
				   struct pw_reply *r);

struct pw_callback_id {
	uint8_t nonce[PW_NONCE_LEN];	/* the request's */
	unsigned int index;		/* which of its delays */
	bool other_port;		/* sent from the reflector's other port */
	bool invite;			/* an INVITE with SDP, not an OPTIONS */
};

/* The callback @id to TARGET ("addr:port"), in out; its length, 0 if cap is short. */
size_t pw_callback(const struct pw_key *key, const struct pw_callback_id *id,
		   const char *target, char *out, size_t cap);

/* A received callback: true when genuine, and then what it is in *id. */
bool pw_callback_parse(const struct pw_key *key, const uint8_t *buf, size_t len,
		       struct pw_callback_id *id);

/* TCP framing of SIP: bytes of the first whole message in buf, 0 if none yet. */
size_t pw_stream_message(const uint8_t *buf, size_t len, bool *malformed);

#endif
