// SPDX-License-Identifier: GPL-2.0
/*
 * `sipalgctl reflect`: the far end of `sipalgctl probe`, on a public host.
 *
 * It answers each authenticated probe request with the bytes it received
 * and the address it saw (probe_wire.h), and sends the callbacks a request
 * asks for.  It faces the open internet, so everything is bounded: a
 * request without a valid token gets nothing; a reply is at most
 * PW_REPLY_OVERHEAD bytes longer than its request; each source (an IPv4
 * address, an IPv6 /64) gets a token bucket of replies; callbacks,
 * connections and their buffers are fixed-size tables; one thread, one
 * poll loop, no blocking call but poll.
 */
#define _GNU_SOURCE	/* accept4 */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe_wire.h"
#include "sipalgctl.h"

#define MAX_PORTS		8
#define MAX_CONNS		64	/* TCP connections, all sources */
#define MAX_CONNS_PER_SOURCE	4
#define CONN_IDLE_MS		10000
#define PARTIAL_IDLE_MS		300	/* TCP bytes that are no whole message: answered after this silence */
#define MAX_PENDING		1024	/* callbacks waiting, all sources */
#define MAX_PENDING_PER_SOURCE	32
#define N_BUCKETS		4096
#define BUCKET_BURST		60	/* replies a source may get at once */
#define BUCKET_RATE		20	/* ... and per second after that */

struct listener {
	int udp, tcp;
	int other;		/* an unbound-port UDP socket: callbacks "from another port" */
};

struct conn {
	int fd;
	struct sockaddr_in6 peer;
	int64_t last_ms;
	size_t len;
	uint8_t buf[PW_MAX_REQUEST];
};

struct pending {
	int64_t when;
	int fd;
	struct sockaddr_in6 to;
	struct pw_callback_id id;
};

struct bucket {
	uint8_t key[8];		/* the source: IPv4 address, or IPv6 /64 */
	int64_t last_ms;
	double tokens;
};

struct reflector {
	struct pw_key key;
	struct listener l[MAX_PORTS];
	unsigned int n_listeners;
	struct conn *conns[MAX_CONNS];
	struct pending pending[MAX_PENDING];
	unsigned int n_pending;
	struct bucket buckets[N_BUCKETS];
	uint32_t seed;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* All sockets are IPv6 (dual stack): IPv4 peers appear v4-mapped. */
static void source_key(const struct sockaddr_in6 *a, uint8_t key[8])
{
	if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
		memset(key, 0, 4);
		memcpy(key + 4, a->sin6_addr.s6_addr + 12, 4);
	} else {
		memcpy(key, a->sin6_addr.s6_addr, 8);
	}
}

static bool same_source(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	uint8_t ka[8], kb[8];

	source_key(a, ka);
	source_key(b, kb);
	return !memcmp(ka, kb, 8);
}

/* "TRANSPORT"'s view of the peer: "203.0.113.1:5060" or "[2001:db8::1]:5060". */
static void format_seen(const struct sockaddr_in6 *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
		inet_ntop(AF_INET, a->sin6_addr.s6_addr + 12, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, ntohs(a->sin6_port));
	} else {
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(out, cap, "[%s]:%u", ip, ntohs(a->sin6_port));
	}
}

/*
 * One token per reply.  The table is direct-mapped on a keyed hash (the key
 * is random per run, so no one can aim collisions): a source that collides
 * with another takes its slot and starts with a full bucket.
 */
static bool rate_allows(struct reflector *r, const struct sockaddr_in6 *src)
{
	uint8_t key[8];
	uint32_t h = r->seed;
	struct bucket *b;
	int64_t now = now_ms();
	int i;

	source_key(src, key);
	for (i = 0; i < 8; i++)
		h = (h ^ key[i]) * 16777619u;
	b = &r->buckets[h % N_BUCKETS];
	if (memcmp(b->key, key, 8) || !b->last_ms) {
		memcpy(b->key, key, 8);
		b->tokens = BUCKET_BURST;
	} else {
		b->tokens += (double)(now - b->last_ms) * BUCKET_RATE / 1000.0;
		if (b->tokens > BUCKET_BURST)
			b->tokens = BUCKET_BURST;
	}
	b->last_ms = now;
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

static unsigned int pending_of(const struct reflector *r, const struct sockaddr_in6 *src)
{
	unsigned int i, n = 0;

	for (i = 0; i < r->n_pending; i++)
		n += same_source(&r->pending[i].to, src);
	return n;
}

/* Both callbacks of each delay, or none if the tables have no room. */
static void schedule_callbacks(struct reflector *r, const struct listener *l,
			       const struct sockaddr_in6 *src, const struct pw_request *req)
{
	unsigned int need = 2 * req->n_callbacks, i;
	int64_t now = now_ms();

	if (!need || r->n_pending + need > MAX_PENDING ||
	    pending_of(r, src) + need > MAX_PENDING_PER_SOURCE)
		return;
	for (i = 0; i < need; i++) {
		struct pending *p = &r->pending[r->n_pending++];

		p->when = now + req->delay_ms[i / 2];
		p->id.other_port = i % 2;
		p->id.invite = req->invite;
		p->fd = p->id.other_port ? l->other : l->udp;
		p->to = *src;
		p->id.index = i / 2;
		memcpy(p->id.nonce, req->nonce, PW_NONCE_LEN);
	}
}

static void send_due_callbacks(struct reflector *r)
{
	int64_t now = now_ms();
	unsigned int i = 0;

	while (i < r->n_pending) {
		struct pending *p = &r->pending[i];
		char target[PW_SEEN_MAX], msg[PW_INVITE_MAX + 1];
		size_t n;

		if (p->when > now) {
			i++;
			continue;
		}
		format_seen(&p->to, target, sizeof(target));
		n = pw_callback(&r->key, &p->id, target, msg, sizeof(msg));
		if (n)
			sendto(p->fd, msg, n, MSG_DONTWAIT, (struct sockaddr *)&p->to, sizeof(p->to));
		r->pending[i] = r->pending[--r->n_pending];
	}
}

static void handle_udp(struct reflector *r, const struct listener *l)
{
	static uint8_t in[65536], out[PW_MAX_REQUEST + PW_REPLY_OVERHEAD];
	struct sockaddr_in6 src;
	socklen_t slen = sizeof(src);
	struct pw_request req;
	char seen[PW_SEEN_MAX];
	ssize_t n;
	size_t reply;

	n = recvfrom(l->udp, in, sizeof(in), MSG_DONTWAIT, (struct sockaddr *)&src, &slen);
	if (n <= 0 || slen != sizeof(src))
		return;
	format_seen(&src, seen, sizeof(seen));
	reply = pw_answer(&r->key, in, (size_t)n, "UDP", seen, out, sizeof(out), &req);
	if (!reply || !rate_allows(r, &src))
		return;
	sendto(l->udp, out, reply, MSG_DONTWAIT, (struct sockaddr *)&src, slen);
	schedule_callbacks(r, l, &src, &req);
}

static void conn_close(struct reflector *r, unsigned int i)
{
	close(r->conns[i]->fd);
	free(r->conns[i]);
	r->conns[i] = NULL;
}

static void handle_accept(struct reflector *r, const struct listener *l)
{
	struct sockaddr_in6 peer;
	socklen_t plen = sizeof(peer);
	unsigned int i, slot = MAX_CONNS, same = 0;
	struct conn *c;
	int fd;

	fd = accept4(l->tcp, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < MAX_CONNS; i++) {
		if (!r->conns[i])
			slot = slot == MAX_CONNS ? i : slot;
		else
			same += same_source(&r->conns[i]->peer, &peer);
	}
	c = slot < MAX_CONNS && same < MAX_CONNS_PER_SOURCE ? malloc(sizeof(*c)) : NULL;
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->peer = peer;
	c->len = 0;
	c->last_ms = now_ms();
	r->conns[slot] = c;
}

/* Answers the first @len bytes of the connection's buffer and drops them. */
static bool conn_answer(struct reflector *r, struct conn *c, size_t len)
{
	static uint8_t out[PW_MAX_REQUEST + PW_REPLY_OVERHEAD];
	struct pw_request req;
	char seen[PW_SEEN_MAX];
	size_t reply;

	format_seen(&c->peer, seen, sizeof(seen));
	reply = pw_answer(&r->key, c->buf, len, "TCP", seen, out, sizeof(out), &req);
	memmove(c->buf, c->buf + len, c->len - len);
	c->len -= len;
	if (!reply || !rate_allows(r, &c->peer))
		return true;
	/* a reply that does not fit the socket buffer at once: the peer is not reading */
	return send(c->fd, out, reply, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)reply;
}

/* Reads what arrived and answers every whole message; false to close. */
static bool conn_read(struct reflector *r, struct conn *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	bool malformed;
	size_t m;

	if (n <= 0)
		return n < 0 && (errno == EAGAIN || errno == EINTR);
	c->len += (size_t)n;
	c->last_ms = now_ms();
	while (c->len && (m = pw_stream_message(c->buf, c->len, &malformed)))
		if (!conn_answer(r, c, m))
			return false;
	return c->len < sizeof(c->buf) || malformed;
}

/*
 * Idle connections: bytes that are not a whole message (malformed, or a
 * Content-Length over what came) are answered as they are, so the probe
 * sees what a box on the path made of its message; a silent peer is
 * dropped.
 */
static void conns_tick(struct reflector *r)
{
	int64_t now = now_ms();
	unsigned int i;

	for (i = 0; i < MAX_CONNS; i++) {
		struct conn *c = r->conns[i];
		bool malformed = false;

		if (!c)
			continue;
		if (c->len && now - c->last_ms >= PARTIAL_IDLE_MS &&
		    !pw_stream_message(c->buf, c->len, &malformed) &&
		    !conn_answer(r, c, c->len)) {
			conn_close(r, i);
			continue;
		}
		if (now - c->last_ms >= CONN_IDLE_MS)
			conn_close(r, i);
	}
}

static int poll_timeout(const struct reflector *r)
{
	int64_t now = now_ms(), next = now + 1000;
	unsigned int i;

	for (i = 0; i < r->n_pending; i++)
		if (r->pending[i].when < next)
			next = r->pending[i].when;
	for (i = 0; i < MAX_CONNS; i++)
		if (r->conns[i] && r->conns[i]->len && r->conns[i]->last_ms + PARTIAL_IDLE_MS < next)
			next = r->conns[i]->last_ms + PARTIAL_IDLE_MS;
	return next > now ? (int)(next - now) : 0;
}

static int run(struct reflector *r)
{
	struct pollfd fds[2 * MAX_PORTS + MAX_CONNS];
	unsigned int i, n, conn_at[MAX_CONNS];

	for (;;) {
		n = 0;
		for (i = 0; i < r->n_listeners; i++) {
			fds[n++] = (struct pollfd){ .fd = r->l[i].udp, .events = POLLIN };
			fds[n++] = (struct pollfd){ .fd = r->l[i].tcp, .events = POLLIN };
		}
		for (i = 0; i < MAX_CONNS; i++) {
			if (!r->conns[i])
				continue;
			conn_at[n - 2 * r->n_listeners] = i;
			fds[n++] = (struct pollfd){ .fd = r->conns[i]->fd, .events = POLLIN };
		}
		if (poll(fds, n, poll_timeout(r)) < 0 && errno != EINTR) {
			perror("sipalgctl reflect: poll");
			return EXIT_FAIL;
		}
		for (i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			if (i < 2 * r->n_listeners && i % 2 == 0)
				handle_udp(r, &r->l[i / 2]);
			else if (i < 2 * r->n_listeners)
				handle_accept(r, &r->l[i / 2]);
			else if (!conn_read(r, r->conns[conn_at[i - 2 * r->n_listeners]]))
				conn_close(r, conn_at[i - 2 * r->n_listeners]);
		}
		send_due_callbacks(r);
		conns_tick(r);
	}
}

static int open_socket(int type, const struct in6_addr *addr, unsigned int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = *addr,
				   .sin6_port = htons((uint16_t)port) };
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0), zero = 0, one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (type == SOCK_STREAM && listen(fd, 16))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void reflect_usage(FILE *f)
{
	fputs("Usage: sipalgctl reflect --token SECRET [--listen ADDR] [--port P]...\n"
	      "The far end of `sipalgctl probe`, for a public host: answers each probe\n"
	      "request with the bytes it received and the address it came from, sealed so\n"
	      "that no ALG on the way back can rewrite them, and sends the OPTIONS or\n"
	      "INVITE callbacks a probe asks for (at most 10 minutes later).\n"
	      "  --token SECRET  the secret shared with the probes; requests without it\n"
	      "                  are ignored\n"
	      "  --listen ADDR   the address to listen on (default: every IPv4 and IPv6\n"
	      "                  address)\n"
	      "  --port P        a UDP and TCP port to listen on (default 5060; repeat for\n"
	      "                  more, at most 8)\n"
	      "Replies are at most 512 bytes larger than their request, the two INVITEs a\n"
	      "request asks for never larger than it; each source gets 60 replies at once\n"
	      "and 20 per second after that.  Runs until killed.\n"
	      "Exit status: 1 a socket could not be opened, 2 usage error.\n", f);
}

int cmd_reflect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "token", required_argument, NULL, 't' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct reflector r;
	unsigned int ports[MAX_PORTS], n_ports = 0, i;
	struct in6_addr addr = IN6ADDR_ANY_INIT;
	const char *token = NULL;
	char *end;
	long p;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			token = optarg;
			break;
		case 'l':
			if (inet_pton(AF_INET6, optarg, &addr) != 1) {
				struct in_addr v4;

				if (inet_pton(AF_INET, optarg, &v4) != 1) {
					fprintf(stderr, "sipalgctl reflect: --listen '%s' is not an IP address\n", optarg);
					return EXIT_USAGE;
				}
				memset(&addr, 0, sizeof(addr));
				addr.s6_addr[10] = addr.s6_addr[11] = 0xff;
				memcpy(addr.s6_addr + 12, &v4, 4);
			}
			break;
		case 'p':
			p = strtol(optarg, &end, 10);
			if (*end || p < 1 || p > 65535 || n_ports == MAX_PORTS) {
				fprintf(stderr, "sipalgctl reflect: --port '%s': give 1 to 8 ports, each 1..65535\n", optarg);
				return EXIT_USAGE;
			}
			ports[n_ports++] = (unsigned int)p;
			break;
		case 'h':
			reflect_usage(stdout);
			return EXIT_OK;
		default:
			reflect_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || !token || !*token) {
		if (!token || !*token)
			fputs("sipalgctl reflect: --token SECRET is required\n", stderr);
		reflect_usage(stderr);
		return EXIT_USAGE;
	}
	if (!n_ports)
		ports[n_ports++] = 5060;
	r.key = (struct pw_key){ (const uint8_t *)token, strlen(token) };
	if (getrandom(&r.seed, sizeof(r.seed), 0) != sizeof(r.seed))
		r.seed = (uint32_t)time(NULL);
	for (i = 0; i < n_ports; i++) {
		struct listener *l = &r.l[i];

		l->udp = open_socket(SOCK_DGRAM, &addr, ports[i]);
		l->tcp = open_socket(SOCK_STREAM, &addr, ports[i]);
		l->other = open_socket(SOCK_DGRAM, &addr, 0);
		if (l->udp < 0 || l->tcp < 0 || l->other < 0) {
			fprintf(stderr, "sipalgctl reflect: cannot listen on port %u: %s\n",
				ports[i], strerror(errno));
			return EXIT_FAIL;
		}
		r.n_listeners++;
		fprintf(stderr, "sipalgctl reflect: answering probes on UDP and TCP port %u\n", ports[i]);
	}
	return run(&r);
}
