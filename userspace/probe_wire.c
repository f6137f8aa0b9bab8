// SPDX-License-Identifier: GPL-2.0
/* The probe <-> reflector wire format; see probe_wire.h. */
#include "probe_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sha256.h"
#include "sip_core.h"

#define NONCE_HEX	(2 * PW_NONCE_LEN)
#define MAC_HEX		(2 * SHA256_LEN)

static const char hexdigits[] = "0123456789abcdef";

static void hex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdigits[b[i] >> 4];
		out[2 * i + 1] = hexdigits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex1(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lower-case hex only: one spelling per value. */
static bool unhex(const char *s, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int hi = unhex1(s[2 * i]), lo = unhex1(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static void mac_of(const struct pw_key *key, const char *text, size_t len,
		   uint8_t mac[SHA256_LEN])
{
	struct hmac_sha256 h;

	hmac_sha256_init(&h, key->token, key->len);
	hmac_sha256_update(&h, text, len);
	hmac_sha256_final(&h, mac);
}

/*
 * The value of the first header line named NAME (case-insensitive) in
 * buf, up to its line end; NULL if none.  Lines end in LF (CRLF or not):
 * a request a broken ALG mangled is still answered.
 */
static const char *header_value(const uint8_t *buf, size_t len, const char *name,
				size_t *vlen)
{
	size_t nlen = strlen(name), pos = 0;

	while (pos < len) {
		const uint8_t *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len, v;

		if (end - pos > nlen && !strncasecmp((const char *)buf + pos, name, nlen)) {
			v = pos + nlen;
			while (v < end && buf[v] == ' ')
				v++;
			if (v < end && buf[v] == ':') {
				v++;
				while (v < end && buf[v] == ' ')
					v++;
				while (end > v && (buf[end - 1] == '\r' || buf[end - 1] == ' '))
					end--;
				*vlen = end - v;
				return (const char *)buf + v;
			}
		}
		pos = end + 1;
	}
	return NULL;
}

/* "-", "MS[,MS]" or "iMS": each 1..PW_MAX_DELAY_MS, no leading zero. */
static bool parse_callbacks(const char *s, size_t n, struct pw_request *req)
{
	size_t i;

	req->n_callbacks = 0;
	req->invite = n > 1 && s[0] == 'i';
	if (n == 1 && s[0] == '-')
		return true;
	i = req->invite;
	while (i < n) {
		uint32_t v = 0;
		size_t start = i;

		if (req->n_callbacks == PW_MAX_CALLBACKS || s[i] == '0')
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 7)
			v = v * 10 + (uint32_t)(s[i++] - '0');
		if (i == start || v > PW_MAX_DELAY_MS)
			return false;
		req->delay_ms[req->n_callbacks++] = v;
		if (i < n && s[i++] != ',')
			return false;
		if (i == n && s[n - 1] == ',')
			return false;
	}
	return req->n_callbacks > 0 && (!req->invite || req->n_callbacks == 1);
}

static size_t callbacks_text(const struct pw_request *req, char *out, size_t cap)
{
	int n;

	if (req->invite && req->n_callbacks != 1)
		return 0;	/* INVITEs come after one delay */
	if (!req->n_callbacks)
		n = snprintf(out, cap, "-");
	else if (req->n_callbacks == 1)
		n = snprintf(out, cap, "%s%u", req->invite ? "i" : "", req->delay_ms[0]);
	else
		n = snprintf(out, cap, "%u,%u", req->delay_ms[0], req->delay_ms[1]);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t pw_request_header(const struct pw_key *key, const struct pw_request *req,
			 char *out, size_t cap)
{
	char nonce[NONCE_HEX + 1], cbs[24], signed_text[80], machex[MAC_HEX + 1];
	uint8_t mac[SHA256_LEN];
	int n;

	hex(req->nonce, PW_NONCE_LEN, nonce);
	if (!callbacks_text(req, cbs, sizeof(cbs)))
		return 0;
	n = snprintf(signed_text, sizeof(signed_text), "sipalg-probe/1 %s %s", nonce, cbs);
	mac_of(key, signed_text, (size_t)n, mac);
	hex(mac, SHA256_LEN, machex);
	n = snprintf(out, cap, "X-Sipalg-Probe: 1 %s %s %s\r\n", nonce, cbs, machex);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

bool pw_request_parse(const struct pw_key *key, const uint8_t *buf, size_t len,
		      struct pw_request *req)
{
	uint8_t mac[SHA256_LEN], want[SHA256_LEN];
	char signed_text[80];
	const char *v, *cbs;
	size_t vlen, cblen;
	int n;

	v = header_value(buf, len, "X-Sipalg-Probe", &vlen);
	/* "1 " NONCE " " CALLBACKS " " MAC */
	if (!v || vlen < 2 + NONCE_HEX + 3 + MAC_HEX || memcmp(v, "1 ", 2) ||
	    v[2 + NONCE_HEX] != ' ' || v[vlen - MAC_HEX - 1] != ' ')
		return false;
	cbs = v + 2 + NONCE_HEX + 1;
	cblen = (size_t)(v + vlen - MAC_HEX - 1 - cbs);
	if (cblen > 20 || !unhex(v + 2, PW_NONCE_LEN, req->nonce) ||
	    !unhex(v + vlen - MAC_HEX, SHA256_LEN, mac) ||
	    !parse_callbacks(cbs, cblen, req))
		return false;
	n = snprintf(signed_text, sizeof(signed_text), "sipalg-probe/1 %.*s %.*s",
		     NONCE_HEX, v + 2, (int)cblen, cbs);
	mac_of(key, signed_text, (size_t)n, want);
	/* the INVITEs a request asks for are never larger than it */
	return !mac_differ(mac, want, SHA256_LEN) &&
	       (!req->invite || len >= PW_INVITE_REQUEST_MIN);
}

/*
 * XOR buf with the keystream HMAC(token, "sipalg-stream/1" NONCE COUNTER),
 * 32 bytes per counter value; sealing and opening are the same operation.
 */
static void keystream_xor(const struct pw_key *key, const uint8_t nonce[PW_NONCE_LEN],
			  uint8_t *buf, size_t len)
{
	uint8_t block[SHA256_LEN];
	uint32_t counter = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % SHA256_LEN == 0) {
			struct hmac_sha256 h;
			uint8_t c[4] = { (uint8_t)(counter >> 24), (uint8_t)(counter >> 16),
					 (uint8_t)(counter >> 8), (uint8_t)counter };

			hmac_sha256_init(&h, key->token, key->len);
			hmac_sha256_update(&h, "sipalg-stream/1", 15);
			hmac_sha256_update(&h, nonce, PW_NONCE_LEN);
			hmac_sha256_update(&h, c, sizeof(c));
			hmac_sha256_final(&h, block);
			counter++;
		}
		buf[i] ^= block[i % SHA256_LEN];
	}
}

/* MAC of a reply's plaintext: HMAC(token, "sipalg-reply/1" NONCE PLAINTEXT). */
static void reply_mac(const struct pw_key *key, const uint8_t nonce[PW_NONCE_LEN],
		      const uint8_t *plain, size_t len, uint8_t mac[SHA256_LEN])
{
	struct hmac_sha256 h;

	hmac_sha256_init(&h, key->token, key->len);
	hmac_sha256_update(&h, "sipalg-reply/1", 14);
	hmac_sha256_update(&h, nonce, PW_NONCE_LEN);
	hmac_sha256_update(&h, plain, len);
	hmac_sha256_final(&h, mac);
}

/*
 * The reply: a response any SIP helper accepts (it has Via, From, To,
 * Call-ID and CSeq, of constant size), then the body
 *   MAC(32) || sealed("TRANSPORT SEEN\n" || received bytes).
 */
size_t pw_answer(const struct pw_key *key, const uint8_t *in, size_t len,
		 const char *transport, const char *seen, uint8_t *out,
		 size_t cap, struct pw_request *req)
{
	char nonce[NONCE_HEX + 1], head[PW_REPLY_OVERHEAD];
	size_t seen_len, body_len, hlen;
	int n;

	if (len > PW_MAX_REQUEST || strlen(seen) >= PW_SEEN_MAX ||
	    !pw_request_parse(key, in, len, req))
		return 0;
	hex(req->nonce, PW_NONCE_LEN, nonce);
	seen_len = strlen(transport) + 1 + strlen(seen) + 1;
	body_len = SHA256_LEN + seen_len + len;
	n = snprintf(head, sizeof(head),
		     "SIP/2.0 200 OK\r\n"
		     "Via: SIP/2.0/%s reflector.invalid;branch=z9hG4bK%s\r\n"
		     "From: <sip:reflector@reflector.invalid>;tag=r\r\n"
		     "To: <sip:probe@reflector.invalid>;tag=p\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: 1 OPTIONS\r\n"
		     "X-Sipalg-Seen: %s %s\r\n"
		     "Content-Type: application/x-sipalg-reflect\r\n"
		     "Content-Length: %zu\r\n\r\n",
		     transport, nonce, nonce, transport, seen, body_len);
	if (n <= 0 || (size_t)n >= sizeof(head))
		return 0;
	hlen = (size_t)n;
	if (hlen + body_len > cap || hlen + body_len > len + PW_REPLY_OVERHEAD)
		return 0;
	memcpy(out, head, hlen);
	snprintf((char *)out + hlen + SHA256_LEN, seen_len + 1, "%s %s\n", transport, seen);
	memcpy(out + hlen + SHA256_LEN + seen_len, in, len);
	reply_mac(key, req->nonce, out + hlen + SHA256_LEN, seen_len + len, out + hlen);
	keystream_xor(key, req->nonce, out + hlen + SHA256_LEN, seen_len + len);
	return hlen + body_len;
}

static void copy_text(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

enum pw_reply_status pw_reply_open(const struct pw_key *key,
				   const uint8_t nonce[PW_NONCE_LEN],
				   const uint8_t *buf, size_t len,
				   struct pw_reply *r)
{
	uint8_t mac[SHA256_LEN];
	const uint8_t *body, *end;
	uint8_t *plain, *nl;
	const char *v;
	size_t vlen, plen;

	memset(r, 0, sizeof(*r));
	body = NULL;
	end = buf + len;
	/* the body follows the first empty line */
	for (nl = memchr(buf, '\n', len); nl && nl + 1 < end;
	     nl = memchr(nl + 1, '\n', (size_t)(end - nl - 1))) {
		if (nl[1] == '\n' || (nl[1] == '\r' && nl + 2 < end && nl[2] == '\n')) {
			body = nl + (nl[1] == '\n' ? 2 : 3);
			break;
		}
	}
	if (!body || end - body < SHA256_LEN + 1)
		return PW_REPLY_FORGED;
	plen = (size_t)(end - body) - SHA256_LEN;
	plain = malloc(plen);
	if (!plain)
		return PW_REPLY_FORGED;
	memcpy(plain, body + SHA256_LEN, plen);
	keystream_xor(key, nonce, plain, plen);
	reply_mac(key, nonce, plain, plen, mac);
	nl = memchr(plain, '\n', plen);
	if (mac_differ(mac, body, SHA256_LEN) || !nl || !memchr(plain, ' ', (size_t)(nl - plain))) {
		free(plain);
		return PW_REPLY_FORGED;
	}
	v = memchr(plain, ' ', (size_t)(nl - plain));
	copy_text(r->transport, sizeof(r->transport), (char *)plain, (size_t)(v - (char *)plain));
	copy_text(r->seen, sizeof(r->seen), v + 1, (size_t)((char *)nl - v - 1));
	r->received_len = plen - (size_t)(nl + 1 - plain);
	memmove(plain, nl + 1, r->received_len);
	r->received = plain;
	v = header_value(buf, (size_t)(body - buf), "X-Sipalg-Seen", &vlen);
	if (v)
		copy_text(r->seen_plain, sizeof(r->seen_plain), v, vlen);
	{
		char want[PW_SEEN_MAX + 8];

		snprintf(want, sizeof(want), "%s %s", r->transport, r->seen);
		if (!v || strcmp(want, r->seen_plain))
			return PW_REPLY_SEEN_REWRITTEN;
	}
	return PW_REPLY_OK;
}

static const char *port_kind(bool other_port)
{
	return other_port ? "other" : "same";
}

static size_t callback_signed(const struct pw_callback_id *id, char *out, size_t cap)
{
	char nhex[NONCE_HEX + 1];
	int n;

	hex(id->nonce, PW_NONCE_LEN, nhex);
	n = snprintf(out, cap, "sipalg-%s/1 %s %u %s", id->invite ? "invite" : "callback",
		     nhex, id->index, port_kind(id->other_port));
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/*
 * An incoming call as a phone gets one: an INVITE with an SDP offer (the
 * media address is a documentation one: the reflector sends no media), so
 * that an ALG on the way treats it as a call.
 */
static int invite_text(const char *target, const char *nhex, const struct pw_callback_id *id,
		       const char *header, char *out, size_t cap)
{
	bool v6 = target[0] == '[';
	const char *media = v6 ? "IP6 2001:db8::5" : "IP4 192.0.2.5";
	char sdp[192];
	int n;

	n = snprintf(sdp, sizeof(sdp),
		     "v=0\r\n"
		     "o=reflector 1 1 IN %s\r\n"
		     "s=-\r\n"
		     "c=IN %s\r\n"
		     "t=0 0\r\n"
		     "m=audio 40000 RTP/AVP 0\r\n", media, media);
	if (n <= 0 || (size_t)n >= sizeof(sdp))
		return -1;
	return snprintf(out, cap,
			"INVITE sip:probe@%s SIP/2.0\r\n"
			"Via: SIP/2.0/UDP reflector.invalid;branch=z9hG4bK%s%ui%c\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:reflector@reflector.invalid>;tag=r\r\n"
			"To: <sip:probe@reflector.invalid>\r\n"
			"Call-ID: %s-%ui\r\n"
			"CSeq: 1 INVITE\r\n"
			"Contact: <sip:reflector@reflector.invalid>\r\n"
			"%s"
			"Content-Type: application/sdp\r\n"
			"Content-Length: %d\r\n\r\n%s",
			target, nhex, id->index, id->other_port ? 'o' : 's', nhex,
			id->index, header, n, sdp);
}

size_t pw_callback(const struct pw_key *key, const struct pw_callback_id *id,
		   const char *target, char *out, size_t cap)
{
	char text[96], nhex[NONCE_HEX + 1], machex[MAC_HEX + 1], header[192];
	uint8_t mac[SHA256_LEN];
	size_t tlen = callback_signed(id, text, sizeof(text));
	int n;

	if (!tlen)
		return 0;
	mac_of(key, text, tlen, mac);
	hex(mac, SHA256_LEN, machex);
	hex(id->nonce, PW_NONCE_LEN, nhex);
	snprintf(header, sizeof(header), "X-Sipalg-Callback: %s %u %s %s\r\n",
		 nhex, id->index, port_kind(id->other_port), machex);
	if (id->invite) {
		n = invite_text(target, nhex, id, header, out, cap);
		return n > 0 && (size_t)n < cap && n <= PW_INVITE_MAX ? (size_t)n : 0;
	}
	n = snprintf(out, cap,
		     "OPTIONS sip:probe@%s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP reflector.invalid;branch=z9hG4bK%s%u%c\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:reflector@reflector.invalid>;tag=r\r\n"
		     "To: <sip:probe@reflector.invalid>\r\n"
		     "Call-ID: %s-%u\r\n"
		     "CSeq: 1 OPTIONS\r\n"
		     "%s"
		     "Content-Length: 0\r\n\r\n",
		     target, nhex, id->index, id->other_port ? 'o' : 's', nhex, id->index, header);
	return n > 0 && (size_t)n < cap && n <= PW_CALLBACK_MAX ? (size_t)n : 0;
}

bool pw_callback_parse(const struct pw_key *key, const uint8_t *buf, size_t len,
		       struct pw_callback_id *id)
{
	uint8_t mac[SHA256_LEN], want[SHA256_LEN];
	char text[96];
	const char *v;
	size_t vlen, tlen;

	v = header_value(buf, len, "X-Sipalg-Callback", &vlen);
	/* NONCE " " INDEX " " same|other " " MAC */
	if (!v || vlen < NONCE_HEX + 8 + MAC_HEX || v[NONCE_HEX] != ' ' ||
	    (v[NONCE_HEX + 1] != '0' && v[NONCE_HEX + 1] != '1') || v[NONCE_HEX + 2] != ' ' ||
	    !unhex(v, PW_NONCE_LEN, id->nonce) || !unhex(v + vlen - MAC_HEX, SHA256_LEN, mac))
		return false;
	id->index = (unsigned int)(v[NONCE_HEX + 1] - '0');
	id->other_port = vlen == NONCE_HEX + 3 + 6 + MAC_HEX &&
			 !memcmp(v + NONCE_HEX + 3, "other ", 6);
	if (!id->other_port && (vlen != NONCE_HEX + 3 + 5 + MAC_HEX ||
				memcmp(v + NONCE_HEX + 3, "same ", 5)))
		return false;
	/* the method is signed: an OPTIONS is not taken for an INVITE */
	id->invite = len >= 7 && !memcmp(buf, "INVITE ", 7);
	tlen = callback_signed(id, text, sizeof(text));
	mac_of(key, text, tlen, want);
	return !mac_differ(mac, want, SHA256_LEN);
}

size_t pw_stream_message(const uint8_t *buf, size_t len, bool *malformed)
{
	static struct sip_msg msg;	/* large: not on the stack */
	enum sip_reason r = sip_parse(buf, len, SIP_PARSE_STREAM, &msg);

	*malformed = false;
	if (r == SIP_OK || r == SIP_R_KEEPALIVE)
		return msg.msg_len;
	if (r != SIP_R_INCOMPLETE && r != SIP_R_BODY_TRUNCATED)
		*malformed = true;
	return 0;
}
