// SPDX-License-Identifier: GPL-2.0
/* The NAT mapping's lifetime on the SIP flow; see probe_nat.h. */
#include "probe_nat.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ROUND1_FLOWS	8
#define ROUND2_FLOWS	6
#define MAX_FLOWS	(ROUND2_FLOWS + 1)
#define GRACE_MS	2500	/* a callback later than its silence plus this is lost */
#define INVITE_DELAY_MS	1000	/* the mapping surely lives: the reply just came */

struct flow {
	int fd;
	struct probe_ctx ctx;	/* the probe's, with this flow's port */
	struct exchange ex;
	int64_t t0;		/* when the reply came: the reflector's clock starts there */
	bool got[PW_MAX_CALLBACKS];
	bool got_other;
};

static void flows_close(struct flow *f, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (f[i].fd >= 0)
			close(f[i].fd);
		exchange_free(&f[i].ex);
	}
}

/* Opens and registers each flow; false if none got an answer. */
static bool flows_start(const struct probe_ctx *ctx, struct flow *f, unsigned int n,
			const uint32_t (*delays)[PW_MAX_CALLBACKS], const unsigned int *n_delays)
{
	unsigned int i, answered = 0;

	memset(f, 0, n * sizeof(*f));
	for (i = 0; i < n; i++) {
		f[i].fd = probe_udp_socket(ctx, 0);
		f[i].ctx = *ctx;
		f[i].ctx.addrs.port = f[i].fd >= 0 ? probe_local_port(f[i].fd) : 0;
		if (f[i].fd < 0 || !exchange_prepare(&f[i].ctx, &f[i].ex, PROBE_REGISTER, false,
						     delays[i], n_delays[i]))
			continue;
		exchange_udp(&f[i].ctx, f[i].fd, &f[i].ex);
		f[i].t0 = probe_now_ms();
		answered += f[i].ex.status == EXCHANGE_ANSWERED;
	}
	return answered > 0;
}

static bool flow_live(const struct flow *f)
{
	return f->fd >= 0 && f->ex.status == EXCHANGE_ANSWERED;
}

/* Callback INDEX of flow F: 1 arrived, 0 lost, -1 not known yet. */
static int callback_state(const struct flow *f, unsigned int index, int64_t now)
{
	if (f->got[index])
		return 1;
	return now > f->t0 + f->ex.req.delay_ms[index] + GRACE_MS ? 0 : -1;
}

static bool flow_resolved(const struct flow *f, int64_t now)
{
	unsigned int i;

	if (!flow_live(f))
		return true;
	for (i = 0; i < f->ex.req.n_callbacks; i++)
		if (callback_state(f, i, now) < 0)
			return false;
	return true;
}

/* Round 1 need not wait past the first loss once every shorter silence is known. */
static bool first_loss_known(const struct flow *f, unsigned int n, int64_t now)
{
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		if (!flow_live(&f[i]) || callback_state(&f[i], 0, now) != 0)
			continue;
		for (j = 0; j < n; j++)
			if (flow_live(&f[j]) && f[j].ex.req.delay_ms[0] < f[i].ex.req.delay_ms[0] &&
			    callback_state(&f[j], 0, now) < 0)
				break;
		if (j == n)
			return true;
	}
	return false;
}

static void take_callback(struct flow *f, unsigned int n, const struct pw_key *key)
{
	struct pw_callback_id id;
	uint8_t buf[2048];
	unsigned int i;
	ssize_t len;

	for (i = 0; i < n; i++) {
		while ((len = recv(f[i].fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			if (!pw_callback_parse(key, buf, (size_t)len, &id) || id.invite ||
			    memcmp(id.nonce, f[i].ex.req.nonce, PW_NONCE_LEN) ||
			    id.index >= f[i].ex.req.n_callbacks)
				continue;
			if (id.other_port)
				f[i].got_other = true;
			else
				f[i].got[id.index] = true;
		}
	}
}

static void flows_wait(struct flow *f, unsigned int n, const struct pw_key *key,
		       bool stop_at_first_loss)
{
	for (;;) {
		struct pollfd pfd[MAX_FLOWS + ROUND1_FLOWS];
		int64_t now = probe_now_ms();
		unsigned int i, open = 0;

		for (i = 0; i < n; i++)
			open += !flow_resolved(&f[i], now);
		if (!open || (stop_at_first_loss && first_loss_known(f, n, now)))
			return;
		for (i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = flow_live(&f[i]) ? f[i].fd : -1, .events = POLLIN };
		if (poll(pfd, n, 200) > 0)
			take_callback(f, n, key);
	}
}

/* Longest silence kept and shortest lost among the flows' first callbacks. */
static void bracket(const struct flow *f, unsigned int n, uint32_t *kept, uint32_t *lost)
{
	int64_t now = probe_now_ms();
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint32_t d = f[i].ex.req.delay_ms[0];
		int s = flow_live(&f[i]) ? callback_state(&f[i], 0, now) : -1;

		if (s == 1 && d > *kept)
			*kept = d;
		if (s == 0 && (!*lost || d < *lost))
			*lost = d;
	}
}

/*
 * After expiry, does the same phone port get the same public port again?
 * Asked on a flow of its own that was silent since its first answer: the
 * lost flows got an OPTIONS after their mapping expired, and the state that
 * stray packet left in the NAT may hold their old public port.
 */
static int port_after_expiry(struct flow *idle)
{
	struct exchange again;
	int kept = -1;

	if (!flow_live(idle) || !exchange_prepare(&idle->ctx, &again, PROBE_REGISTER, false, NULL, 0))
		return -1;
	exchange_udp(&idle->ctx, idle->fd, &again);
	if (again.status == EXCHANGE_ANSWERED)
		kept = !strcmp(again.reply.seen, idle->ex.reply.seen);
	exchange_free(&again);
	return kept;
}

static int other_port_state(const struct flow *f, unsigned int n)
{
	unsigned int i;
	int state = -1;

	for (i = 0; i < n; i++) {
		if (f[i].got_other)
			return 1;
		if (f[i].got[0])
			state = 0;
	}
	return state;
}

int nat_measure(const struct probe_ctx *ctx, unsigned int max_wait_s,
		struct nat_result *res)
{
	static struct flow f1[ROUND1_FLOWS], f2[MAX_FLOWS], idle;
	uint32_t delays[MAX_FLOWS + ROUND1_FLOWS][PW_MAX_CALLBACKS];
	unsigned int n_delays[MAX_FLOWS + ROUND1_FLOWS], i, n2 = 0;
	uint32_t kept = 0, lost = 0;

	memset(res, 0, sizeof(*res));
	res->max_wait_s = max_wait_s;
	res->inbound_refreshes = res->port_kept = res->other_port = -1;
	for (i = 0; i < ROUND1_FLOWS; i++) {
		delays[i][0] = (uint32_t)(max_wait_s * 1000ull * (i + 1) / ROUND1_FLOWS);
		n_delays[i] = 1;
	}
	n_delays[ROUND1_FLOWS] = 0;
	if (!flows_start(ctx, &idle, 1, &delays[ROUND1_FLOWS], &n_delays[ROUND1_FLOWS]) ||
	    !flows_start(ctx, f1, ROUND1_FLOWS, delays, n_delays)) {
		flows_close(&idle, 1);
		flows_close(f1, ROUND1_FLOWS);
		return -1;
	}
	flows_wait(f1, ROUND1_FLOWS, &ctx->key, true);
	bracket(f1, ROUND1_FLOWS, &kept, &lost);
	res->other_port = other_port_state(f1, ROUND1_FLOWS);
	if (lost)
		res->port_kept = port_after_expiry(&idle);
	flows_close(&idle, 1);
	flows_close(f1, ROUND1_FLOWS);

	if (lost && lost - kept > 1000) {
		for (i = 0; i < ROUND2_FLOWS; i++, n2++) {
			delays[n2][0] = kept + (lost - kept) * (i + 1) / (ROUND2_FLOWS + 1);
			n_delays[n2] = 1;
		}
	}
	/*
	 * An inbound packet while the mapping surely lives, then a second one
	 * after 0.9 of the lifetime kept: past the first lifetime (with a
	 * second to spare), only there if the first packet refreshed it.
	 */
	if (kept && lost && kept / 2 + kept / 10 * 9 > lost + 1000) {
		delays[n2][0] = kept / 2;
		delays[n2][1] = kept / 2 + kept / 10 * 9;
		n_delays[n2++] = 2;
	}
	if (n2 && flows_start(ctx, f2, n2, delays, n_delays)) {
		flows_wait(f2, n2, &ctx->key, false);
		bracket(f2, n2, &kept, &lost);
		if (n_delays[n2 - 1] == 2 && f2[n2 - 1].got[0])
			res->inbound_refreshes = f2[n2 - 1].got[1];
		if (res->other_port < 0)
			res->other_port = other_port_state(f2, n2);
	}
	flows_close(f2, n2);
	res->kept_s = kept / 1000.0;
	res->lost_s = lost / 1000.0;
	return 0;
}

/* A genuine INVITE callback of @ex on @fd: which port it came from in *res. */
static void take_invite(const struct pw_key *key, int fd, const struct exchange *ex,
			struct invite_result *res)
{
	struct pw_callback_id id;
	uint8_t buf[2048];
	ssize_t len;

	while ((len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (!pw_callback_parse(key, buf, (size_t)len, &id) || !id.invite ||
		    memcmp(id.nonce, ex->req.nonce, PW_NONCE_LEN))
			continue;
		if (id.other_port)
			res->other_port = 1;
		else
			res->same_port = 1;
	}
}

void invite_check(const struct probe_ctx *ctx, int fd, struct invite_result *res)
{
	struct exchange ex;
	int64_t end;

	res->same_port = res->other_port = -1;
	if (!exchange_prepare_invite(ctx, &ex, INVITE_DELAY_MS)) {
		exchange_free(&ex);
		return;
	}
	exchange_udp(ctx, fd, &ex);
	if (ex.status == EXCHANGE_ANSWERED) {
		res->same_port = res->other_port = 0;
		end = probe_now_ms() + INVITE_DELAY_MS + GRACE_MS;
		while (probe_now_ms() < end && (res->same_port < 1 || res->other_port < 1)) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			if (poll(&pfd, 1, 200) > 0)
				take_invite(&ctx->key, fd, &ex, res);
		}
	}
	exchange_free(&ex);
}
