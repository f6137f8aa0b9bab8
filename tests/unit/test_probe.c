// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of what `sipalgctl probe` and `sipalgctl reflect` share:
 * SHA-256 and HMAC-SHA256 against FIPS 180-2 and RFC 4231's vectors, the
 * wire format (probe_wire.c: a request's MAC, the sealed reply, callbacks,
 * each refusing what was altered) and the comparison (probe_diff.c:
 * allowed rewrites against harms).  KTAP on stdout.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_diff.h"
#include "probe_msgs.h"
#include "probe_wire.h"
#include "sha256.h"
#include "sip_core.h"

static int n_test, n_fail;

static void report(int ok, const char *fmt, ...)
{
	va_list ap;

	n_test++;
	n_fail += !ok;
	printf("%sok %d - ", ok ? "" : "not ", n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void tohex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void test_sha256(const char *name, const void *d, size_t n, size_t repeat, const char *want)
{
	uint8_t md[SHA256_LEN];
	char got[2 * SHA256_LEN + 1];
	struct sha256 s;
	size_t i;

	sha256_init(&s);
	for (i = 0; i < repeat; i++)
		sha256_update(&s, d, n);
	sha256_final(&s, md);
	tohex(md, SHA256_LEN, got);
	report(!strcmp(got, want), "SHA-256 %s", name);
}

static void test_hmac(const char *name, const void *key, size_t klen, const void *d, size_t n,
		      const char *want)
{
	uint8_t md[SHA256_LEN];
	char got[2 * SHA256_LEN + 1];
	struct hmac_sha256 h;

	hmac_sha256_init(&h, key, klen);
	hmac_sha256_update(&h, d, n);
	hmac_sha256_final(&h, md);
	tohex(md, SHA256_LEN, got);
	report(!strncmp(got, want, strlen(want)), "HMAC-SHA256 RFC 4231 %s", name);
}

static void test_vectors(void)
{
	uint8_t k20[20], k131[131], d50[50], k25[25], d50b[50];
	size_t i;

	test_sha256("\"abc\"", "abc", 3, 1,
		    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	test_sha256("\"\"", "", 0, 1,
		    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	test_sha256("448-bit message", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 1,
		    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	test_sha256("one million 'a'", "aaaaaaaaaa", 10, 100000,
		    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	memset(k20, 0x0b, sizeof(k20));
	test_hmac("case 1", k20, 20, "Hi There", 8,
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	test_hmac("case 2", "Jefe", 4, "what do ya want for nothing?", 28,
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(k20, 0xaa, sizeof(k20));
	memset(d50, 0xdd, sizeof(d50));
	test_hmac("case 3", k20, 20, d50, 50,
		  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	for (i = 0; i < sizeof(k25); i++)
		k25[i] = (uint8_t)(i + 1);
	memset(d50b, 0xcd, sizeof(d50b));
	test_hmac("case 4", k25, 25, d50b, 50,
		  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	memset(k131, 0xaa, sizeof(k131));
	test_hmac("case 6 (key longer than a block)", k131, 131,
		  "Test Using Larger Than Block-Size Key - Hash Key First", 54,
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static const struct pw_key key = { (const uint8_t *)"unit-token", 10 };
static const struct pw_key wrong = { (const uint8_t *)"unit-tokeN", 10 };

static size_t request(const struct pw_key *k, const struct pw_request *req, char *buf, size_t cap)
{
	char header[160];

	pw_request_header(k, req, header, sizeof(header));
	return (size_t)snprintf(buf, cap, "OPTIONS sip:x SIP/2.0\r\n%sContent-Length: 0\r\n\r\n", header);
}

static void test_wire(void)
{
	struct pw_request req = { .nonce = { 7, 7, 7 }, .n_callbacks = 2, .delay_ms = { 9000, 27000 } };
	struct pw_request got;
	static uint8_t reply[PW_MAX_REQUEST + PW_REPLY_OVERHEAD];
	char buf[512], cb[PW_CALLBACK_MAX];
	struct pw_callback_id id = { .index = 1, .other_port = true }, gid;
	struct pw_reply r;
	size_t n, len;
	char *p;

	n = request(&key, &req, buf, sizeof(buf));
	report(pw_request_parse(&key, (uint8_t *)buf, n, &got) && got.n_callbacks == 2 &&
	       got.delay_ms[0] == 9000 && got.delay_ms[1] == 27000 && !memcmp(got.nonce, req.nonce, PW_NONCE_LEN),
	       "wire: a request's header parses back, callbacks and nonce");
	report(!pw_request_parse(&wrong, (uint8_t *)buf, n, &got), "wire: another token: refused");
	p = strstr(buf, "27000");
	p[0] = '3';
	report(!pw_request_parse(&key, (uint8_t *)buf, n, &got), "wire: a callback delay altered: refused");
	req.delay_ms[1] = PW_MAX_DELAY_MS + 1;
	n = request(&key, &req, buf, sizeof(buf));
	report(!pw_request_parse(&key, (uint8_t *)buf, n, &got), "wire: a delay over %u ms: refused", PW_MAX_DELAY_MS);
	req.delay_ms[1] = 27000;

	n = request(&key, &req, buf, sizeof(buf));
	len = pw_answer(&key, (uint8_t *)buf, n, "UDP", "203.0.113.1:5060", reply, sizeof(reply), &got);
	report(len && len <= n + PW_REPLY_OVERHEAD, "wire: the reply (%zu bytes) is at most %d over the request (%zu)",
	       len, PW_REPLY_OVERHEAD, n);
	report(pw_reply_open(&key, req.nonce, reply, len, &r) == PW_REPLY_OK && r.received_len == n &&
	       !memcmp(r.received, buf, n) && !strcmp(r.seen, "203.0.113.1:5060") && !strcmp(r.transport, "UDP"),
	       "wire: the reply opens to the bytes received and the address seen");
	free(r.received);
	report(!memmem(reply, len, buf + 24, 20), "wire: the received bytes are not in the reply in clear");
	p = memmem(reply, len, "X-Sipalg-Seen: UDP 203.0.113.1", 30);
	memcpy(p + 19, "192.168.1.2", 11);
	report(pw_reply_open(&key, req.nonce, reply, len, &r) == PW_REPLY_SEEN_REWRITTEN,
	       "wire: X-Sipalg-Seen rewritten on the way back: detected");
	free(r.received);
	reply[len - 1] ^= 1;
	report(pw_reply_open(&key, req.nonce, reply, len, &r) == PW_REPLY_FORGED,
	       "wire: one sealed byte altered: forged");
	report(pw_reply_open(&wrong, req.nonce, reply, len, &r) == PW_REPLY_FORGED,
	       "wire: another token: forged");

	memcpy(id.nonce, req.nonce, PW_NONCE_LEN);
	n = pw_callback(&key, &id, "203.0.113.1:5060", cb, sizeof(cb));
	report(n && pw_callback_parse(&key, (uint8_t *)cb, n, &gid) && gid.index == 1 && gid.other_port &&
	       !gid.invite && !memcmp(gid.nonce, req.nonce, PW_NONCE_LEN),
	       "wire: a callback parses back (an OPTIONS, index, other port)");
	p = strstr(cb, " other ");
	memcpy(p, " same  ", 7);
	report(!pw_callback_parse(&key, (uint8_t *)cb, n, &gid),
	       "wire: a callback altered: refused");
}

/* A request with @req's header, padded with X-Sipalg-Pad to @pad bytes of padding. */
static size_t padded_request(const struct pw_request *req, size_t pad, char *buf, size_t cap)
{
	char header[160];

	if (!pw_request_header(&key, req, header, sizeof(header)))
		return 0;
	return (size_t)snprintf(buf, cap, "REGISTER sip:x SIP/2.0\r\n%sX-Sipalg-Pad: %0*d\r\n"
				"Content-Length: 0\r\n\r\n", header, (int)pad, 0);
}

static void test_invite(void)
{
	static const char longest[] = "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535";
	struct pw_request req = { .nonce = { 9, 9 }, .n_callbacks = 1, .delay_ms = { 1000 }, .invite = true };
	struct pw_callback_id id = { .nonce = { 9, 9 }, .invite = true }, gid;
	static uint8_t reply[PW_MAX_REQUEST + PW_REPLY_OVERHEAD];
	char buf[2048], cb[2 * PW_INVITE_MAX], alt[2 * PW_INVITE_MAX];
	static struct sip_msg msg;
	struct pw_request got;
	size_t n, len, pad;

	/* the smallest request asking for INVITEs */
	for (pad = 1; (n = padded_request(&req, pad, buf, sizeof(buf))) < PW_INVITE_REQUEST_MIN; pad++)
		;
	report(pw_request_parse(&key, (uint8_t *)buf, n, &got) && got.invite && got.n_callbacks == 1 &&
	       got.delay_ms[0] == 1000, "invite: a request for INVITEs (\"i1000\", %zu bytes) parses back", n);
	len = pw_answer(&key, (uint8_t *)buf, n, "UDP", "203.0.113.1:5060", reply, sizeof(reply), &got);
	report(len && len <= n + PW_REPLY_OVERHEAD, "invite: it is answered, at most %d bytes over it",
	       PW_REPLY_OVERHEAD);
	report(!pw_request_parse(&key, (uint8_t *)buf, n - 1, &got) &&
	       !pw_answer(&key, (uint8_t *)buf, n - 1, "UDP", "203.0.113.1:5060", reply, sizeof(reply), &got),
	       "invite: one byte shorter than %d: refused, not answered", PW_INVITE_REQUEST_MIN);
	memcpy(strstr(buf, " i1000 "), " 11000 ", 7);
	report(!pw_request_parse(&key, (uint8_t *)buf, n, &got), "invite: the \"i\" dropped on the way: refused");
	req.n_callbacks = 2;
	req.delay_ms[1] = 2000;
	report(!padded_request(&req, 1, buf, sizeof(buf)), "invite: INVITEs after two delays cannot be asked for");

	/* the INVITE itself: bounded, a call with SDP, authenticated with its method */
	n = pw_callback(&key, &id, longest, cb, sizeof(cb));
	report(n && n <= PW_INVITE_MAX && 2 * PW_INVITE_MAX <= PW_INVITE_REQUEST_MIN,
	       "invite: to the longest address, %zu bytes, at most %d: the two never exceed the request",
	       n, PW_INVITE_MAX);
	n = pw_callback(&key, &id, "203.0.113.1:5060", cb, sizeof(cb));
	report(n && sip_parse((uint8_t *)cb, n, 0, &msg) == SIP_OK && msg.method == SIP_M_INVITE &&
	       msg.n_media == 1 && strstr(cb, "Content-Type: application/sdp\r\n") &&
	       strstr(cb, "c=IN IP4 192.0.2.5\r\n"),
	       "invite: an INVITE with an SDP offer that parses (one m= line, c= an IPv4 address)");
	report(pw_callback_parse(&key, (uint8_t *)cb, n, &gid) && gid.invite && !gid.other_port &&
	       gid.index == 0 && !memcmp(gid.nonce, id.nonce, PW_NONCE_LEN),
	       "invite: it parses back as an INVITE from the same port");
	len = (size_t)snprintf(alt, sizeof(alt), "OPTIONS%s", cb + 6);
	report(!pw_callback_parse(&key, (uint8_t *)alt, len, &gid),
	       "invite: the same callback sent as an OPTIONS: refused (the method is signed)");
	id.invite = false;
	n = pw_callback(&key, &id, "203.0.113.1:5060", cb, sizeof(cb));
	len = (size_t)snprintf(alt, sizeof(alt), "INVITE%s", cb + 7);
	report(!pw_callback_parse(&key, (uint8_t *)alt, len, &gid),
	       "invite: an OPTIONS callback renamed INVITE: refused");
}

/* Replaces every FROM in buf by TO (same length) and returns the count. */
static int replace(char *buf, const char *from, const char *to)
{
	char *p = buf;
	int n = 0;

	while ((p = strstr(p, from))) {
		memcpy(p, to, strlen(to));
		n++;
	}
	return n;
}

static bool has(const struct change_list *l, const char *field, enum change_kind kind)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].field, field) && l->v[i].kind == kind)
			return true;
	return false;
}

static bool any_harm(const struct change_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].harmful)
			return true;
	return false;
}

static void test_diff(void)
{
	static const struct probe_addrs a = { "192.168.1.2", false, 5060, "203.0.113.2" };
	static char sent[8192], recv[8192];
	struct change_list l = { 0 };
	size_t n = probe_msg_build(PROBE_INVITE, false, &a, "00112233445566778899aabbccddeeff",
				   "", sent, sizeof(sent));
	char *p;

	diff_message(&l, "INVITE", false, (uint8_t *)sent, n, (uint8_t *)sent, n);
	report(l.n == 0, "diff: the same bytes: no change");

	/* what sipalg does: Via, Contact, c= addresses and an m= port */
	memcpy(recv, sent, n + 1);
	p = strstr(recv, "Via: SIP/2.0/UDP 192.168.1.2");
	memcpy(p + 17, "203.0.113.1", 11);
	p = strstr(recv, "Contact: <sip:probe@192.168.1.2");
	memcpy(p + 20, "203.0.113.1", 11);
	p = strstr(recv, "c=IN IP4 192.168.1.2");
	memcpy(p + 9, "203.0.113.1", 11);
	p = strstr(recv, "m=audio 40000");
	memcpy(p + 8, "41000", 5);
	diff_message(&l, "INVITE", false, (uint8_t *)sent, n, (uint8_t *)recv, n);
	report(l.n == 4 && !any_harm(&l) && has(&l, "Via", CHANGE_ADDRESS) && has(&l, "Contact", CHANGE_ADDRESS) &&
	       has(&l, "SDP c=", CHANGE_ADDRESS) && has(&l, "SDP m=", CHANGE_PORT),
	       "diff: Via, Contact, c= address and m= port rewritten: allowed");
	changes_free(&l);

	/* a blind replace: Call-ID, From, o=, a=rtcp too */
	memcpy(recv, sent, n + 1);
	replace(recv, "192.168.1.2", "203.0.113.1");
	diff_message(&l, "INVITE", false, (uint8_t *)sent, n, (uint8_t *)recv, n);
	report(has(&l, "Call-ID", CHANGE_REWRITTEN) && has(&l, "From", CHANGE_REWRITTEN) &&
	       has(&l, "SDP o=", CHANGE_REWRITTEN) && has(&l, "SDP a=rtcp", CHANGE_REWRITTEN) &&
	       has(&l, "Via", CHANGE_ADDRESS), "diff: a blind replace: Call-ID, From, o=, a=rtcp named as harms");
	changes_free(&l);

	/* a lost ';': the message no longer parses */
	memcpy(recv, sent, n + 1);
	p = strstr(recv, ";rport");
	memmove(p, p + 1, n - (size_t)(p - recv));
	diff_message(&l, "INVITE", false, (uint8_t *)sent, n, (uint8_t *)recv, n - 1);
	report(has(&l, "message", CHANGE_CORRUPTED) && has(&l, "Via", CHANGE_REWRITTEN),
	       "diff: a lost ';' in Via: corrupted, Via harmed");
	changes_free(&l);

	/* ... and the private address replaced everywhere too: Contact's address alone changed */
	replace(recv, "192.168.1.2", "203.0.113.1");
	diff_message(&l, "INVITE", false, (uint8_t *)sent, n, (uint8_t *)recv, n - 1);
	report(has(&l, "message", CHANGE_CORRUPTED) && has(&l, "Via", CHANGE_REWRITTEN) &&
	       has(&l, "Contact", CHANGE_ADDRESS) && !has(&l, "Contact", CHANGE_REWRITTEN) &&
	       has(&l, "Call-ID", CHANGE_REWRITTEN),
	       "diff: in a message that no longer parses, an address-only change is still told apart");
	changes_free(&l);

	/* a body shortened but Content-Length kept */
	memcpy(recv, sent, n + 1);
	diff_message(&l, "INVITE", false, (uint8_t *)sent, n, (uint8_t *)recv, n - 12);
	report(any_harm(&l), "diff: the body cut: a harm");
	changes_free(&l);

	/* a header removed, another added */
	memcpy(recv, sent, n + 1);
	p = strstr(recv, "User-Agent:");
	memcpy(p, "Server-Tag", 10);
	diff_message(&l, "INVITE", false, (uint8_t *)sent, n, (uint8_t *)recv, n);
	report(has(&l, "User-Agent", CHANGE_REMOVED) && has(&l, "Server-Tag", CHANGE_ADDED),
	       "diff: a header removed and one added: both named");
	changes_free(&l);
}

int main(void)
{
	printf("KTAP version 1\n1..38\n");
	test_vectors();
	test_wire();
	test_invite();
	test_diff();
	return n_fail ? 1 : 0;
}
