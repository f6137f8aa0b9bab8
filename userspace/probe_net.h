/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The probe's side of the network: the reflector's address, the phone's
 * own, and one request/reply exchange over UDP or TCP.
 */
#ifndef SIPALG_PROBE_NET_H
#define SIPALG_PROBE_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "probe_msgs.h"
#include "probe_wire.h"

struct probe_ctx {
	struct pw_key key;
	struct sockaddr_storage server;
	socklen_t server_len;
	struct probe_addrs addrs;
};

enum exchange_status {
	EXCHANGE_ANSWERED = 0,	/* reply genuine (maybe with X-Sipalg-Seen rewritten) */
	EXCHANGE_DROPPED,	/* no reply */
	EXCHANGE_FORGED,	/* a reply the reflector did not send */
};

struct exchange {
	enum probe_msg msg;
	bool tcp;
	uint8_t *sent;			/* malloc'd */
	size_t sent_len;
	struct pw_request req;
	enum exchange_status status;
	enum pw_reply_status reply_status;
	struct pw_reply reply;		/* when answered */
	char forged[128];		/* the first line of a forged reply */
};

int64_t probe_now_ms(void);

/* Builds ex->sent: message @msg with a fresh nonce and @callbacks. */
bool exchange_prepare(const struct probe_ctx *ctx, struct exchange *ex,
		      enum probe_msg msg, bool tcp, const uint32_t *delays_ms,
		      unsigned int n_delays);

/*
 * Builds ex->sent: a REGISTER that asks for INVITE callbacks after
 * @delay_ms, padded to the length the reflector wants for them.
 */
bool exchange_prepare_invite(const struct probe_ctx *ctx, struct exchange *ex,
			     uint32_t delay_ms);

/* Sends ex->sent on the UDP socket @fd (retransmitting) and waits for its reply. */
void exchange_udp(const struct probe_ctx *ctx, int fd, struct exchange *ex);

/* The same on a connected TCP socket; false when the connection is gone. */
bool exchange_tcp(const struct probe_ctx *ctx, int fd, struct exchange *ex);

void exchange_free(struct exchange *ex);

/* A UDP socket bound to @port (0: any), or -1 with errno. */
int probe_udp_socket(const struct probe_ctx *ctx, unsigned int port);

/* The port a socket is bound to. */
unsigned int probe_local_port(int fd);

#endif
