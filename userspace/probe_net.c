// SPDX-License-Identifier: GPL-2.0
/* The probe's exchanges with the reflector; see probe_net.h. */
#define _GNU_SOURCE	/* memmem */
#include "probe_net.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define UDP_TRIES	3
#define UDP_WAIT_MS	1500	/* per try */
#define TCP_WAIT_MS	4000
#define MAX_MESSAGE	8192

int64_t probe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Builds ex->sent for ex->req (its nonce drawn here), padded with an
 * X-Sipalg-Pad header to at least @min_len bytes.
 */
static bool prepare(const struct probe_ctx *ctx, struct exchange *ex, size_t min_len)
{
	char header[160 + PW_INVITE_REQUEST_MIN], unique[2 * PW_NONCE_LEN + 1], *buf;
	size_t hlen;
	unsigned int i;

	if (getrandom(ex->req.nonce, PW_NONCE_LEN, 0) != PW_NONCE_LEN)
		return false;
	for (i = 0; i < PW_NONCE_LEN; i++)
		snprintf(unique + 2 * i, 3, "%02x", ex->req.nonce[i]);
	hlen = pw_request_header(&ctx->key, &ex->req, header, sizeof(header));
	buf = malloc(MAX_MESSAGE);
	if (!hlen || !buf) {
		free(buf);
		return false;
	}
	ex->sent = (uint8_t *)buf;
	ex->sent_len = probe_msg_build(ex->msg, ex->tcp, &ctx->addrs, unique, header, buf, MAX_MESSAGE);
	if (ex->sent_len && ex->sent_len < min_len) {
		/* "X-Sipalg-Pad: " PAD "\r\n": 16 bytes and the pad */
		size_t pad = min_len - ex->sent_len > 16 ? min_len - ex->sent_len - 16 : 1;

		snprintf(header + hlen, sizeof(header) - hlen, "X-Sipalg-Pad: %0*d\r\n", (int)pad, 0);
		ex->sent_len = probe_msg_build(ex->msg, ex->tcp, &ctx->addrs, unique, header,
					       buf, MAX_MESSAGE);
	}
	return ex->sent_len > 0;
}

static void exchange_init(struct exchange *ex, enum probe_msg msg, bool tcp)
{
	memset(ex, 0, sizeof(*ex));
	ex->status = EXCHANGE_DROPPED;	/* until a reply says otherwise */
	ex->msg = msg;
	ex->tcp = tcp;
}

bool exchange_prepare(const struct probe_ctx *ctx, struct exchange *ex,
		      enum probe_msg msg, bool tcp, const uint32_t *delays_ms,
		      unsigned int n_delays)
{
	unsigned int i;

	exchange_init(ex, msg, tcp);
	for (i = 0; i < n_delays && i < PW_MAX_CALLBACKS; i++)
		ex->req.delay_ms[i] = delays_ms[i];
	ex->req.n_callbacks = i;
	return prepare(ctx, ex, 0);
}

bool exchange_prepare_invite(const struct probe_ctx *ctx, struct exchange *ex,
			     uint32_t delay_ms)
{
	exchange_init(ex, PROBE_REGISTER, false);
	ex->req.invite = true;
	ex->req.n_callbacks = 1;
	ex->req.delay_ms[0] = delay_ms;
	/* 32 bytes to spare: an ALG that shortens it a little does not make it too short */
	return prepare(ctx, ex, PW_INVITE_REQUEST_MIN + 32);
}

static bool from_server(const struct probe_ctx *ctx, const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *s = (const void *)&ctx->server;

		return x->sin_addr.s_addr == s->sin_addr.s_addr && x->sin_port == s->sin_port;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *s = (const void *)&ctx->server;

		return !memcmp(&x->sin6_addr, &s->sin6_addr, 16) && x->sin6_port == s->sin6_port;
	}
	return false;
}

/*
 * A reply to this exchange carries its nonce (the reflector's in its
 * Call-ID; and every SIP response copies the request's Call-ID, which has
 * the nonce too, so a box answering in the reflector's place is caught);
 * anything else (a late reply to an earlier message, a callback) is not
 * for us.
 */
static bool about(const struct exchange *ex, const uint8_t *buf, size_t len)
{
	char nonce[2 * PW_NONCE_LEN + 1];
	unsigned int i;

	for (i = 0; i < PW_NONCE_LEN; i++)
		snprintf(nonce + 2 * i, 3, "%02x", ex->req.nonce[i]);
	return memmem(buf, len, nonce, 2 * PW_NONCE_LEN) != NULL;
}

/* Classifies a whole reply message for ex. */
static void take_reply(const struct probe_ctx *ctx, struct exchange *ex,
		       const uint8_t *buf, size_t len)
{
	ex->reply_status = pw_reply_open(&ctx->key, ex->req.nonce, buf, len, &ex->reply);
	if (ex->reply_status == PW_REPLY_FORGED) {
		const uint8_t *nl = memchr(buf, '\r', len);

		ex->status = EXCHANGE_FORGED;
		snprintf(ex->forged, sizeof(ex->forged), "%.*s",
			 (int)(nl ? (size_t)(nl - buf) : (len < 100 ? len : 100)), buf);
		return;
	}
	ex->status = EXCHANGE_ANSWERED;
}

void exchange_udp(const struct probe_ctx *ctx, int fd, struct exchange *ex)
{
	static uint8_t buf[65536];
	int try;

	ex->status = EXCHANGE_DROPPED;
	for (try = 0; try < UDP_TRIES; try++) {
		int64_t deadline = probe_now_ms() + UDP_WAIT_MS;

		sendto(fd, ex->sent, ex->sent_len, 0, (struct sockaddr *)&ctx->server, ctx->server_len);
		for (;;) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			struct sockaddr_storage from;
			socklen_t flen = sizeof(from);
			int64_t left = deadline - probe_now_ms();
			ssize_t n;

			if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
				break;
			n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
			if (n <= 0 || !from_server(ctx, &from) || !about(ex, buf, (size_t)n))
				continue;
			take_reply(ctx, ex, buf, (size_t)n);
			return;
		}
	}
}

bool exchange_tcp(const struct probe_ctx *ctx, int fd, struct exchange *ex)
{
	static uint8_t buf[PW_MAX_REQUEST + PW_REPLY_OVERHEAD];
	int64_t deadline = probe_now_ms() + TCP_WAIT_MS;
	size_t len = 0, m = 0;
	bool malformed;

	ex->status = EXCHANGE_DROPPED;
	if (send(fd, ex->sent, ex->sent_len, MSG_NOSIGNAL) != (ssize_t)ex->sent_len)
		return false;
	while (!(m = pw_stream_message(buf, len, &malformed)) && !malformed && len < sizeof(buf)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - probe_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
		n = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
	}
	if (!m)
		m = len;
	if (about(ex, buf, m))
		take_reply(ctx, ex, buf, m);
	return true;
}

void exchange_free(struct exchange *ex)
{
	free(ex->sent);
	free(ex->reply.received);
	ex->sent = NULL;
	ex->reply.received = NULL;
}

int probe_udp_socket(const struct probe_ctx *ctx, unsigned int port)
{
	struct sockaddr_storage sa = { .ss_family = ctx->server.ss_family };
	int fd = socket(ctx->server.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (sa.ss_family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sa, ctx->server_len)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

unsigned int probe_local_port(int fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len))
		return 0;
	return ntohs(sa.ss_family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port :
			((struct sockaddr_in6 *)&sa)->sin6_port);
}
