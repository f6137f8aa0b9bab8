// SPDX-License-Identifier: GPL-2.0
/*
 * `sipalgctl probe SERVER`: sends what a phone sends, from the port a phone
 * uses, to a `sipalgctl reflect` on the other side of the router; compares
 * what left with what the reflector received (probe_diff.c) and what came
 * back; says what a registrar will conclude from the REGISTER it got; and
 * measures how long the NAT keeps the SIP mapping (probe_nat.c).
 */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "json.h"
#include "probe_diff.h"
#include "probe_nat.h"
#include "probe_net.h"
#include "sip_core.h"
#include "sipalgctl.h"

#define N_EXCHANGES	(2 * PROBE_N_MSGS)	/* every message over UDP, then TCP */
#define TCP_CONNECT_S	4

struct registrar_view {
	bool tested;
	bool contact_private;	/* nat_uac_test flag 1 */
	bool via_address_differs;	/* flag 2 */
	bool via_port_differs;	/* flag 16 */
};

struct probe_run {
	struct probe_ctx ctx;
	char server_text[80];
	char local_text[80];
	struct exchange ex[N_EXCHANGES];
	const char *tcp_problem;	/* why TCP was not tested, or NULL */
	struct change_list changes;
	struct registrar_view registrar;
	struct invite_result invite;
	bool nat_measured;
	struct nat_result nat;
	bool alg, harmful;
};

static void probe_usage(FILE *f)
{
	fputs("Usage: sipalgctl probe SERVER[:PORT] --token SECRET [-j] [--local-port P]\n"
	      "                       [--max-wait SECONDS]\n"
	      "       sipalgctl probe --local [-j]\n"
	      "Is a SIP ALG on the path to SERVER rewriting SIP, does it harm it, will the\n"
	      "registrar see the NAT, and how long does the NAT keep the SIP mapping?\n"
	      "SERVER runs `sipalgctl reflect --token SECRET` (PORT default 5060).  Sends,\n"
	      "over UDP and TCP from the phone's port, a REGISTER, an INVITE with SDP, an\n"
	      "OPTIONS, an INVITE over 1500 bytes and compact headers, and compares each\n"
	      "header with what the reflector received; then asks the reflector for an\n"
	      "INVITE with SDP back, from its SIP port and from another port.\n"
	      "  --token SECRET     the reflector's secret\n"
	      "  --local-port P     the port to send from (default 5060, as a phone does;\n"
	      "                     stop a softphone that holds it)\n"
	      "  --max-wait S       the longest silence tried when measuring the NAT\n"
	      "                     mapping's lifetime (default 120; 0: do not measure)\n"
	      "  --local            instead: is this Linux machine itself rewriting SIP\n"
	      "                     (nf_conntrack_sip, nftables ct helper rules, sipalg)?\n"
	      "  -j, --json         JSON output\n"
	      "Exit status: 0 no ALG, 5 an ALG that does no harm, 6 a harmful ALG,\n"
	      "1 could not test (the reason is printed), 2 usage error.\n", f);
}

/* "host[:port]", "[v6][:port]" or a bare v6 address: resolved into ctx->server. */
static bool resolve_server(struct probe_run *r, const char *arg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res;
	char host[256], port[8] = "5060";
	const char *colon = strrchr(arg, ':');
	int err;

	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (!close || (close[1] && close[1] != ':'))
			return false;
		snprintf(host, sizeof(host), "%.*s", (int)(close - arg - 1), arg + 1);
		if (close[1])
			snprintf(port, sizeof(port), "%s", close + 2);
	} else if (colon && strchr(arg, ':') == colon) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - arg), arg);
		snprintf(port, sizeof(port), "%s", colon + 1);
	} else {
		snprintf(host, sizeof(host), "%s", arg);
	}
	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "sipalgctl probe: %s: %s\n", arg, gai_strerror(err));
		return false;
	}
	memcpy(&r->ctx.server, res->ai_addr, res->ai_addrlen);
	r->ctx.server_len = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

static void format_addr(const struct sockaddr_storage *sa, char *host, size_t hcap,
			unsigned int *port)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const void *)sa;

		inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
		snprintf(host, hcap, "%s", ip);
		*port = ntohs(v4->sin_port);
	} else {
		const struct sockaddr_in6 *v6 = (const void *)sa;

		inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
		snprintf(host, hcap, "[%s]", ip);
		*port = ntohs(v6->sin6_port);
	}
}

/* The phone's own address: the one the kernel picks to reach the server. */
static bool local_address(struct probe_run *r, unsigned int port)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	unsigned int sport;
	int fd = socket(r->ctx.server.ss_family, SOCK_DGRAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&r->ctx.server, r->ctx.server_len) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		fprintf(stderr, "sipalgctl probe: could not test: no route to %s: %s\n",
			r->server_text, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	format_addr(&sa, r->ctx.addrs.host, sizeof(r->ctx.addrs.host), &sport);
	r->ctx.addrs.ipv6 = sa.ss_family == AF_INET6;
	r->ctx.addrs.port = port;
	format_addr(&r->ctx.server, r->ctx.addrs.server, sizeof(r->ctx.addrs.server), &sport);
	snprintf(r->server_text, sizeof(r->server_text), "%s:%u", r->ctx.addrs.server, sport);
	snprintf(r->local_text, sizeof(r->local_text), "%s:%u", r->ctx.addrs.host, port);
	return true;
}

static int tcp_connect(const struct probe_run *r, unsigned int port, const char **problem)
{
	struct sockaddr_storage sa = { .ss_family = r->ctx.server.ss_family };
	struct timeval tv = { .tv_sec = TCP_CONNECT_S };
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	if (sa.ss_family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, r->ctx.server_len) ||
	    connect(fd, (struct sockaddr *)&r->ctx.server, r->ctx.server_len)) {
		*problem = errno == ECONNREFUSED ? "the reflector refused the TCP connection" :
			   errno == EADDRINUSE ? "the local TCP port is in use" :
			   errno == EADDRNOTAVAIL ?
			   "the local TCP port closed a connection to the reflector less than a minute ago" :
			   "the TCP connection to the reflector failed";
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Closes the probe's TCP connection with a reset: a normal close would
 * leave the phone's port in TIME_WAIT for a minute, and the next probe's
 * connection from it to the same reflector would fail.
 */
static void tcp_close_reset(int fd)
{
	struct linger now = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	close(fd);
}

/* Every message over UDP, then over one TCP connection.  False: nothing answered. */
static bool run_exchanges(struct probe_run *r, int udp, unsigned int port)
{
	unsigned int i, answered = 0;
	int tcp;

	for (i = 0; i < PROBE_N_MSGS; i++) {
		if (exchange_prepare(&r->ctx, &r->ex[i], (enum probe_msg)i, false, NULL, 0))
			exchange_udp(&r->ctx, udp, &r->ex[i]);
		answered += r->ex[i].status == EXCHANGE_ANSWERED;
	}
	tcp = tcp_connect(r, port, &r->tcp_problem);
	for (i = PROBE_N_MSGS; i < N_EXCHANGES; i++) {
		bool ok = exchange_prepare(&r->ctx, &r->ex[i], (enum probe_msg)(i - PROBE_N_MSGS),
					   true, NULL, 0);

		if (tcp >= 0 && ok && !exchange_tcp(&r->ctx, tcp, &r->ex[i])) {
			tcp_close_reset(tcp);
			tcp = -1;
		}
		answered += r->ex[i].status == EXCHANGE_ANSWERED;
	}
	if (tcp >= 0)
		tcp_close_reset(tcp);
	return answered > 0;
}

static bool tested(const struct probe_run *r, const struct exchange *ex)
{
	return !ex->tcp || !r->tcp_problem;
}

/* X-Sipalg-Seen on its way back: what the reflector sent (sealed) and what arrived. */
static void seen_rewritten(struct probe_run *r, const struct exchange *ex,
			   const char *name, const char *tp)
{
	char sent[sizeof(ex->reply.transport) + sizeof(ex->reply.seen) + 1];

	snprintf(sent, sizeof(sent), "%s %s", ex->reply.transport, ex->reply.seen);
	changes_add(&r->changes, name, tp, "X-Sipalg-Seen", CHANGE_REPLY_REWRITTEN,
		    sent, strlen(sent), ex->reply.seen_plain, strlen(ex->reply.seen_plain));
}

static void collect_changes(struct probe_run *r)
{
	unsigned int i;

	for (i = 0; i < N_EXCHANGES; i++) {
		const struct exchange *ex = &r->ex[i];
		const char *name = probe_msg_name(ex->msg), *tp = ex->tcp ? "TCP" : "UDP";

		if (!tested(r, ex))
			continue;
		if (ex->status == EXCHANGE_DROPPED) {
			changes_add(&r->changes, name, tp, "message", CHANGE_DROPPED,
				    (const char *)ex->sent, ex->sent_len, "", 0);
		} else if (ex->status == EXCHANGE_FORGED) {
			changes_add(&r->changes, name, tp, "reply", CHANGE_REPLY_FORGED,
				    "", 0, ex->forged, strlen(ex->forged));
		} else {
			diff_message(&r->changes, name, ex->tcp, ex->sent, ex->sent_len,
				     ex->reply.received, ex->reply.received_len);
			if (ex->reply_status == PW_REPLY_SEEN_REWRITTEN)
				seen_rewritten(r, ex, name, tp);
		}
	}
	for (i = 0; i < r->changes.n; i++) {
		r->alg = true;
		r->harmful |= r->changes.v[i].harmful;
	}
}

static bool private_address(const struct sip_addr *a)
{
	const u8 *ip = a->ip;

	if (a->family == 4)
		return ip[0] == 10 || (ip[0] == 172 && (ip[1] & 0xf0) == 16) ||
		       (ip[0] == 192 && ip[1] == 168) || (ip[0] == 100 && (ip[1] & 0xc0) == 64);
	return a->family == 6 && (ip[0] & 0xfe) == 0xfc;
}

/*
 * What Kamailio's nat_uac_test("19") concludes from the UDP REGISTER the
 * reflector received and the address it came from: the Contact is a
 * private address (1), the top Via's address is not the source (2), or
 * its port is not the source port (16).
 */
static void registrar_emulate(struct probe_run *r)
{
	static struct sip_msg m;
	const struct exchange *ex = &r->ex[PROBE_REGISTER];
	struct sip_addr src;
	const char *colon;
	unsigned int sport;
	const struct sip_hostport *via;

	if (ex->status != EXCHANGE_ANSWERED ||
	    sip_parse(ex->reply.received, ex->reply.received_len, 0, &m) != SIP_OK ||
	    !m.n_vias)
		return;
	colon = strrchr(ex->reply.seen, ':');
	if (!colon)
		return;
	if (sip_addr_parse(ex->reply.seen + (ex->reply.seen[0] == '['),
			   (size_t)(colon - ex->reply.seen) - 2 * (ex->reply.seen[0] == '['), &src))
		return;
	sport = (unsigned int)atoi(colon + 1);
	via = &m.via[0].sent_by;
	r->registrar.tested = true;
	r->registrar.contact_private = m.n_contacts && m.contact[0].hp.host_kind != SIP_HOST_NAME &&
				       private_address(&m.contact[0].hp.addr);
	r->registrar.via_address_differs = via->host_kind == SIP_HOST_NAME ||
					   !sip_addr_equal(&via->addr, &src);
	r->registrar.via_port_differs = (via->portval ? via->portval : 5060) != sport;
}

static bool registrar_sees_nat(const struct registrar_view *v)
{
	return v->contact_private || v->via_address_differs || v->via_port_differs;
}

/* ---------------------------------------------------------------- output */

/* Who a harm happened to, and what it means, in words a support agent can read out. */
static const char *subject(const struct change *c)
{
	switch (c->kind) {
	case CHANGE_DROPPED:
	case CHANGE_CORRUPTED:
		return "A message";
	case CHANGE_REPLY_FORGED:
	case CHANGE_REPLY_REWRITTEN:
		return "The reply";
	default:
		return c->field;
	}
}

static const char *meaning(const struct change *c)
{
	static const struct {
		const char *field, *words;
	} fields[] = {
		{ "Via", "changed beyond its address: replies may not find their way back" },
		{ "Contact", "changed beyond its address: calls to the phone may not reach it" },
		{ "Call-ID", "changed: phone and server no longer agree which call a message belongs to" },
		{ "From", "rewritten: the caller's identity was altered, which breaks authentication "
			  "and call matching on many servers" },
		{ "To", "rewritten: the callee's identity was altered" },
		{ "Request-URI", "rewritten: the request is sent somewhere else" },
		{ "SDP o=", "rewritten (the session's origin): some phones and servers then reject "
			    "the call or lose audio on hold and transfer" },
		{ "SDP a=rtcp", "rewritten without a pinhole for it: call quality reports are lost" },
	};
	size_t i;

	switch (c->kind) {
	case CHANGE_DROPPED:
		return "never reached the server, or its answer never came back: the router dropped it";
	case CHANGE_CORRUPTED:
		return "arrived damaged: it no longer parses as SIP, so a server rejects or misreads it";
	case CHANGE_LENGTH_WRONG:
		return "no longer matches the body: the message is cut short or padded";
	case CHANGE_ADDED:
		return "added on the way";
	case CHANGE_REMOVED:
		return "removed on the way";
	case CHANGE_REPLY_FORGED:
		return "came from something other than the server: a box on the path answers in its place";
	case CHANGE_REPLY_REWRITTEN:
		return "was rewritten on its way back to the phone";
	default:
		break;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(c->field, fields[i].field))
			return fields[i].words;
	return "changed, though NAT does not require it";
}

/* The harms, each once, with the messages it hit. */
static void print_harms(const struct probe_run *r)
{
	size_t i, j;

	for (i = 0; i < r->changes.n; i++) {
		const struct change *c = &r->changes.v[i];
		bool first = true;

		if (!c->harmful)
			continue;
		for (j = 0; j < i && first; j++)
			first = !(r->changes.v[j].kind == c->kind &&
				  !strcmp(r->changes.v[j].field, c->field));
		if (!first)
			continue;
		printf("  - %s %s\n", subject(c), meaning(c));
		printf("      in:");
		for (j = i; j < r->changes.n; j++)
			if (r->changes.v[j].kind == c->kind && !strcmp(r->changes.v[j].field, c->field))
				printf(" %s/%s;", r->changes.v[j].message, r->changes.v[j].transport);
		printf("\n");
		if (c->kind == CHANGE_CORRUPTED)
			printf("      the server's parser says: %s\n", c->received);
		else if (c->kind == CHANGE_REPLY_FORGED)
			printf("      the reply: %s\n", c->received);
		else if (c->kind != CHANGE_DROPPED)
			printf("      sent:     %s\n      received: %s\n", c->sent, c->received);
	}
}

static void print_allowed(const struct probe_run *r)
{
	static const char *const fields[] = { "Via", "Contact", "SDP c=", "SDP m=", "Content-Length" };
	size_t i, k;

	printf("  It rewrote:");
	for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
		for (i = 0; i < r->changes.n; i++)
			if (!r->changes.v[i].harmful && !strcmp(r->changes.v[i].field, fields[k]))
				break;
		if (i < r->changes.n)
			printf(" %s", fields[k]);
	}
	printf(" (the addresses and ports NAT requires, nothing else)\n");
}

static unsigned int keepalive_s(const struct nat_result *n)
{
	unsigned int k = (unsigned int)(n->kept_s * 3 / 4);

	return k < 5 ? 5 : k;
}

static void print_invite(const struct invite_result *in)
{
	if (in->same_port < 0) {
		printf("Incoming call: not tested (the reflector did not answer the request for\n"
		       "an INVITE; a reflector older than this probe does not send one).\n");
		return;
	}
	printf("Incoming call (an INVITE with SDP to your public address and port):\n");
	printf("  from the server's SIP port: %s\n", in->same_port ? "arrived" :
	       "did NOT arrive: calls from your provider will be lost");
	printf("  from another port of the server: %s\n", in->other_port ?
	       "arrived (the router lets it in: no port filtering, or an ALG opened the way)" :
	       "blocked (only the registrar's own address and port get in)");
}

static void print_human(const struct probe_run *r)
{
	const struct exchange *reg = &r->ex[PROBE_REGISTER];
	bool nat = reg->status == EXCHANGE_ANSWERED && strcmp(reg->reply.seen, r->local_text);

	printf("Probe from %s to the reflector at %s", r->local_text, r->server_text);
	if (reg->status == EXCHANGE_ANSWERED)
		printf(",\nwhich saw it come from %s%s", reg->reply.seen,
		       nat ? " (your router translates the address: NAT)" : "");
	printf(".\n");
	if (r->tcp_problem)
		printf("TCP not tested: %s.\n", r->tcp_problem);
	printf("\n");
	if (!r->alg) {
		printf("Verdict: no SIP ALG. Every message reached the server exactly as sent,\n"
		       "and every reply came back intact.\n");
	} else if (!r->harmful) {
		printf("Verdict: a SIP ALG rewrites your SIP, but only the addresses and ports NAT\n"
		       "requires (what sipalg does): it does no harm.\n");
		print_allowed(r);
	} else {
		printf("Verdict: a SIP ALG on your path DAMAGES your SIP messages. Turn it off in\n"
		       "the router (often called \"SIP ALG\", \"SIP helper\" or \"SIP passthrough\").\n");
		print_harms(r);
	}
	printf("\n");
	if (reg->status == EXCHANGE_ANSWERED && !nat) {
		printf("Registrar: there is no NAT between you and it.\n");
	} else if (!r->registrar.tested) {
		printf("Registrar: cannot tell; the REGISTER over UDP did not arrive intact.\n");
	} else if (registrar_sees_nat(&r->registrar)) {
		printf("Registrar: it will see the NAT, so a registrar that handles NAT (e.g.\n"
		       "Kamailio's nat_uac_test) can fix the contact and keep the mapping open:\n");
		if (r->registrar.contact_private)
			printf("  the Contact has a private address\n");
		if (r->registrar.via_address_differs)
			printf("  the Via address is not the one the REGISTER came from\n");
		if (r->registrar.via_port_differs)
			printf("  the Via port is not the one the REGISTER came from\n");
	} else {
		printf("Registrar: it will NOT see the NAT: the REGISTER arrives with the public\n"
		       "address and port in Via and Contact, so it will not keep the mapping open;\n"
		       "your phone must send keep-alives itself or incoming calls are lost.\n");
	}
	print_invite(&r->invite);
	if (!r->nat_measured) {
		printf("NAT mapping: not measured (%s).\n", r->nat.max_wait_s ?
		       "the flows that measure it got no answer" : "--max-wait 0");
		return;
	}
	if (!r->nat.lost_s) {
		printf("NAT mapping: kept for at least %u s of silence (the longest tried, --max-wait).\n",
		       r->nat.max_wait_s);
	} else {
		printf("NAT mapping: kept for %.1f s of silence, lost after %.1f s.\n",
		       r->nat.kept_s, r->nat.lost_s);
		printf("  Keep-alive: the phone should send one (OPTIONS or CRLF) at least every %u s.\n",
		       keepalive_s(&r->nat));
	}
	if (r->nat.inbound_refreshes >= 0)
		printf("  Inbound packets refresh it: %s.\n", r->nat.inbound_refreshes ? "yes" : "no");
	if (r->nat.port_kept >= 0)
		printf("  After it expired, the public port was %s.\n",
		       r->nat.port_kept ? "the same again" : "a different one");
	if (r->nat.other_port >= 0)
		printf("  A request from another port of the server %s.\n",
		       r->nat.other_port ? "got in (the NAT does not filter by port)" :
		       "was blocked (only the registrar's own address and port get in)");
}

static void json_num_or_null(struct json *j, const char *key, double v, bool known)
{
	json_key(j, key);
	if (known)
		json_double(j, v);
	else
		json_null(j);
}

static void json_tristate(struct json *j, const char *key, int v)
{
	json_key(j, key);
	if (v < 0)
		json_null(j);
	else
		json_bool(j, v);
}

static void print_json(const struct probe_run *r)
{
	const struct exchange *reg = &r->ex[PROBE_REGISTER];
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "server");
	json_str(&j, r->server_text);
	json_key(&j, "local");
	json_str(&j, r->local_text);
	json_key(&j, "seen");
	if (reg->status == EXCHANGE_ANSWERED)
		json_str(&j, reg->reply.seen);
	else
		json_null(&j);
	json_key(&j, "tcp_tested");
	json_bool(&j, !r->tcp_problem);
	json_key(&j, "alg_detected");
	json_bool(&j, r->alg);
	json_key(&j, "harmful");
	json_bool(&j, r->harmful);
	json_key(&j, "changes");
	json_arr_begin(&j);
	for (i = 0; i < r->changes.n; i++) {
		const struct change *c = &r->changes.v[i];

		json_obj_begin(&j);
		json_key(&j, "message");
		json_str(&j, c->message);
		json_key(&j, "transport");
		json_str(&j, c->transport);
		json_key(&j, "field");
		json_str(&j, c->field);
		json_key(&j, "kind");
		json_str(&j, change_kind_name(c->kind));
		json_key(&j, "harmful");
		json_bool(&j, c->harmful);
		json_key(&j, "sent");
		json_str(&j, c->sent ? c->sent : "");
		json_key(&j, "received");
		json_str(&j, c->received ? c->received : "");
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "registrar_sees_nat");
	if (r->registrar.tested)
		json_bool(&j, registrar_sees_nat(&r->registrar));
	else
		json_null(&j);
	json_key(&j, "registrar_checks");
	json_obj_begin(&j);
	json_tristate(&j, "contact_private", r->registrar.tested ? r->registrar.contact_private : -1);
	json_tristate(&j, "via_address_differs", r->registrar.tested ? r->registrar.via_address_differs : -1);
	json_tristate(&j, "via_port_differs", r->registrar.tested ? r->registrar.via_port_differs : -1);
	json_obj_end(&j);
	json_num_or_null(&j, "mapping_lifetime_s", r->nat.kept_s, r->nat_measured && r->nat.lost_s);
	json_num_or_null(&j, "mapping_lost_after_s", r->nat.lost_s, r->nat_measured && r->nat.lost_s);
	json_num_or_null(&j, "keepalive_s", keepalive_s(&r->nat), r->nat_measured && r->nat.lost_s);
	json_tristate(&j, "inbound_refreshes", r->nat_measured ? r->nat.inbound_refreshes : -1);
	json_tristate(&j, "port_kept_after_expiry", r->nat_measured ? r->nat.port_kept : -1);
	json_tristate(&j, "other_port_gets_in", r->nat_measured ? r->nat.other_port : -1);
	json_key(&j, "incoming_invite");
	json_obj_begin(&j);
	json_tristate(&j, "from_sip_port", r->invite.same_port);
	json_tristate(&j, "from_other_port", r->invite.other_port);
	json_obj_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

/* ------------------------------------------------------------------- main */

static int parse_uint(const char *s, unsigned int max, unsigned int *v)
{
	char *end;
	long x = strtol(s, &end, 10);

	if (*s < '0' || *s > '9' || *end || x < 0 || x > (long)max)
		return -1;
	*v = (unsigned int)x;
	return 0;
}

int cmd_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "token", required_argument, NULL, 't' },
		{ "local-port", required_argument, NULL, 'p' },
		{ "max-wait", required_argument, NULL, 'w' },
		{ "local", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct probe_run r;
	unsigned int port = 5060, max_wait = 120, i;
	bool json = false, local = false;
	const char *token = NULL;
	int c, udp, ret;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			token = optarg;
			break;
		case 'p':
			if (parse_uint(optarg, 65535, &port) || !port) {
				fprintf(stderr, "sipalgctl probe: --local-port '%s' is not a port (1..65535)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'w':
			if (parse_uint(optarg, PW_MAX_DELAY_MS / 1000, &max_wait)) {
				fprintf(stderr, "sipalgctl probe: --max-wait '%s': give 0 to %u seconds\n",
					optarg, PW_MAX_DELAY_MS / 1000);
				return EXIT_USAGE;
			}
			break;
		case 'l':
			local = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			probe_usage(stdout);
			return EXIT_OK;
		default:
			probe_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (local) {
		if (optind != argc || token) {
			probe_usage(stderr);
			return EXIT_USAGE;
		}
		return probe_local(json);
	}
	if (optind != argc - 1 || !token || !*token) {
		if (optind == argc - 1)
			fputs("sipalgctl probe: --token SECRET is required (the reflector's)\n", stderr);
		probe_usage(stderr);
		return EXIT_USAGE;
	}
	r.ctx.key = (struct pw_key){ (const uint8_t *)token, strlen(token) };
	if (!resolve_server(&r, argv[optind]) || !local_address(&r, port))
		return EXIT_FAIL;
	udp = probe_udp_socket(&r.ctx, port);
	if (udp < 0) {
		fprintf(stderr, "sipalgctl probe: could not test: cannot send from UDP port %u: %s%s\n",
			port, strerror(errno),
			errno == EADDRINUSE ? " (a softphone may hold it: stop it, or use --local-port)" : "");
		return EXIT_FAIL;
	}
	if (!run_exchanges(&r, udp, port)) {
		fprintf(stderr, "sipalgctl probe: could not test: the reflector at %s did not answer "
			"(is `sipalgctl reflect` running there with the same --token, and UDP port %s open?)\n",
			r.server_text, strrchr(r.server_text, ':') + 1);
		close(udp);
		return EXIT_FAIL;
	}
	invite_check(&r.ctx, udp, &r.invite);
	close(udp);
	collect_changes(&r);
	registrar_emulate(&r);
	r.nat.max_wait_s = max_wait;
	if (max_wait)
		r.nat_measured = !nat_measure(&r.ctx, max_wait, &r.nat);
	if (json)
		print_json(&r);
	else
		print_human(&r);
	ret = !r.alg ? EXIT_OK : r.harmful ? EXIT_ALG_HARMFUL : EXIT_ALG_HARMLESS;
	for (i = 0; i < N_EXCHANGES; i++)
		exchange_free(&r.ex[i]);
	changes_free(&r.changes);
	return ret;
}
