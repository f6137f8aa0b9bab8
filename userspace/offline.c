// SPDX-License-Identifier: GPL-2.0
/*
 * The offline subcommands: `parse` and `rewrite` run the module's core on
 * a message read from a file, so an operator can see what the router will
 * do to a given message without a kernel.
 */
#include "offline.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "rewrite.h"
#include "sipalgctl.h"

#define MAX_INPUT	(16u << 20)
#define MAX_MEDIA_MAP	64

/* Reads a whole file (or stdin for "-"); NULL with a message on failure. */
static unsigned char *read_input(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	unsigned char *buf;
	size_t n = 0, cap = 65536;

	if (!f) {
		fprintf(stderr, "sipalgctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf = malloc(cap);
	while (buf) {
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (r == 0)
			break;
		if (n == cap) {
			unsigned char *nb = cap >= MAX_INPUT ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				fprintf(stderr, "sipalgctl: %s: input too large\n", path);
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (buf && ferror(f)) {
		fprintf(stderr, "sipalgctl: %s: read error\n", path);
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

/* Line and column (1-based) of an offset, for error messages. */
static void line_col(const unsigned char *b, size_t off, size_t *line, size_t *col)
{
	size_t i, l = 1, c = 1;

	for (i = 0; i < off; i++) {
		if (b[i] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static void report_malformed(const char *cmd, const unsigned char *b, const struct rw_result *r)
{
	size_t line, col;

	line_col(b, r->err_off, &line, &col);
	fprintf(stderr, "sipalgctl %s: malformed: %s at offset %zu (line %zu, column %zu)\n",
		cmd, sip_reason_name(r->reason), r->err_off, line, col);
}

static const char *const hdr_names[SIP_HDR__COUNT] = {
	"other", "via", "contact", "content-length", "content-type", "call-id",
	"cseq", "expires", "from", "to",
};

static const char *const tp_names[] = { "other", "UDP", "TCP", "TLS", "SCTP", "WS", "WSS" };
static const char *const host_kinds[] = { "name", "ipv4", "ipv6" };
static const char *const dir_names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
static const char *const method_names[] = {
	"other", "INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "UPDATE",
	"PRACK", "SUBSCRIBE", "NOTIFY", "MESSAGE", "INFO", "REFER", "PUBLISH",
};

static const char *name_of(const char *const *names, size_t n, unsigned int i)
{
	return i < n ? names[i] : "?";
}

#define NAME(tab, i) name_of(tab, sizeof(tab) / sizeof(tab[0]), i)

/* Output of one message: spans are relative to the input file (base added). */
struct view {
	const unsigned char *b;	/* the message */
	size_t base;		/* its offset in the input */
	struct json *j;
};

static void jspan(struct view *v, const char *key, struct sip_span s, bool nullable)
{
	json_key(v->j, key);
	if (nullable && !s.len)
		json_null(v->j);
	else
		json_span(v->j, (unsigned int)(v->base + s.off), s.len);
}

static void jaddr(struct json *j, const char *key, const struct sip_addr *a)
{
	char txt[64];
	size_t n = sip_addr_format(a, false, txt, sizeof(txt));

	json_key(j, key);
	if (n)
		json_str_n(j, txt, n);
	else
		json_null(j);
}

static void jhostport(struct view *v, const struct sip_hostport *hp)
{
	jspan(v, "host", hp->host, true);
	json_key(v->j, "host_kind");
	json_str(v->j, NAME(host_kinds, hp->host_kind));
	jaddr(v->j, "address", &hp->addr);
	jspan(v, "port", hp->port, true);
	json_key(v->j, "port_value");
	if (hp->port.len)
		json_int(v->j, hp->portval);
	else
		json_null(v->j);
}

static void jconn(struct view *v, const char *key, const struct sip_sdp_conn *c)
{
	json_key(v->j, key);
	if (!c->present) {
		json_null(v->j);
		return;
	}
	json_obj_begin(v->j);
	jspan(v, "address", c->addr, false);
	jaddr(v->j, "ip", &c->ip);
	json_key(v->j, "multicast");
	json_bool(v->j, c->multicast);
	json_obj_end(v->j);
}

static void json_headers(struct view *v, const struct sip_msg *m)
{
	struct json *j = v->j;
	unsigned int i;

	json_key(j, "headers");
	json_arr_begin(j);
	for (i = 0; i < m->n_headers; i++) {
		json_obj_begin(j);
		jspan(v, "name", m->hdr[i].name, false);
		json_key(j, "id");
		json_str(j, NAME(hdr_names, m->hdr[i].id));
		jspan(v, "value", m->hdr[i].value, false);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "vias");
	json_arr_begin(j);
	for (i = 0; i < m->n_vias; i++) {
		const struct sip_via *via = &m->via[i];

		json_obj_begin(j);
		jspan(v, "value", via->value, false);
		json_key(j, "transport");
		json_str(j, NAME(tp_names, via->transport));
		jhostport(v, &via->sent_by);
		json_key(j, "rport");
		json_bool(j, via->has_rport);
		json_key(j, "received");
		json_bool(j, via->has_received);
		json_key(j, "branch");
		json_bool(j, via->has_branch);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "contacts");
	json_arr_begin(j);
	for (i = 0; i < m->n_contacts; i++) {
		const struct sip_contact *ct = &m->contact[i];

		json_obj_begin(j);
		jspan(v, "value", ct->value, false);
		json_key(j, "star");
		json_bool(j, ct->star);
		if (!ct->star) {
			jspan(v, "uri", ct->uri, false);
			json_key(j, "scheme");
			json_str(j, ct->nonsip ? "other" : ct->sips ? "sips" : "sip");
			json_key(j, "tls");
			json_bool(j, ct->tls);
			if (!ct->nonsip)
				jhostport(v, &ct->hp);
			json_key(j, "expires");
			if (ct->has_expires)
				json_int(j, ct->expires);
			else
				json_null(j);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void json_body(struct view *v, const struct sip_msg *m)
{
	struct json *j = v->j;
	unsigned int i;

	jspan(v, "body", m->body, false);
	json_key(j, "sdp");
	json_arr_begin(j);
	for (i = 0; i < m->n_sdp; i++) {
		json_obj_begin(j);
		jspan(v, "body", m->sdp[i].body, false);
		jspan(v, "origin", m->sdp[i].origin, true);
		jconn(v, "connection", &m->sdp[i].conn);
		json_key(j, "ice");
		json_bool(j, m->sdp[i].has_ice);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "media");
	json_arr_begin(j);
	for (i = 0; i < m->n_media; i++) {
		const struct sip_media *md = &m->media[i];

		json_obj_begin(j);
		json_key(j, "part");
		json_int(j, md->part);
		jspan(v, "media", md->media, false);
		jspan(v, "port", md->port, false);
		json_key(j, "port_value");
		json_int(j, md->portval);
		json_key(j, "ports");
		json_int(j, md->nports);
		jspan(v, "proto", md->proto, false);
		json_key(j, "udp");
		json_bool(j, md->is_udp);
		jconn(v, "connection", &md->conn);
		json_key(j, "rtcp_port");
		if (md->rtcp_port)
			json_int(j, md->rtcp_port);
		else
			json_null(j);
		json_key(j, "direction");
		json_str(j, NAME(dir_names, md->dir));
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void json_message(struct view *v, const struct sip_msg *m)
{
	struct json *j = v->j;

	json_obj_begin(j);
	json_key(j, "verdict");
	json_str(j, "ok");
	json_key(j, "offset");
	json_int(j, (long long)v->base);
	json_key(j, "length");
	json_int(j, m->msg_len);
	json_key(j, "header_length");
	json_int(j, m->hdr_end);
	json_key(j, "type");
	json_str(j, m->is_request ? "request" : "response");
	if (m->is_request) {
		json_key(j, "method");
		json_str_n(j, (const char *)v->b + m->method_span.off, m->method_span.len);
		jspan(v, "method_span", m->method_span, false);
		jspan(v, "request_uri", m->ruri, false);
	} else {
		json_key(j, "status");
		json_int(j, m->status);
		jspan(v, "reason_phrase", m->reason, false);
	}
	jspan(v, "call_id", m->call_id, false);
	json_key(j, "cseq");
	json_obj_begin(j);
	json_key(j, "number");
	json_int(j, m->cseq);
	json_key(j, "method");
	json_str(j, NAME(method_names, m->cseq_method));
	json_obj_end(j);
	json_key(j, "content_length");
	if (m->has_content_length) {
		json_obj_begin(j);
		json_key(j, "value");
		json_int(j, m->content_length);
		jspan(v, "span", m->content_length_span, false);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	jspan(v, "content_type", m->content_type, true);
	json_key(j, "expires");
	if (m->has_expires)
		json_int(j, m->expires);
	else
		json_null(j);
	json_headers(v, m);
	json_body(v, m);
	json_obj_end(j);
}

static void txt(const unsigned char *b, struct sip_span s)
{
	fwrite(b + s.off, 1, s.len, stdout);
}

static void human_hostport(const unsigned char *b, const struct sip_hostport *hp)
{
	txt(b, hp->host);
	if (hp->port.len)
		printf(":%u", hp->portval);
	printf(" (%s%s)", NAME(host_kinds, hp->host_kind), hp->port.len ? "" : ", no port");
}

static void human_conn(const unsigned char *b, const struct sip_sdp_conn *c)
{
	if (!c->present) {
		printf("-");
		return;
	}
	txt(b, c->addr);
	if (c->multicast)
		printf(" (multicast)");
}

static void human_message(const unsigned char *b, size_t base, const struct sip_msg *m)
{
	unsigned int i;

	if (m->is_request) {
		printf("request ");
		txt(b, m->method_span);
		printf(" ");
		txt(b, m->ruri);
		printf("\n");
	} else {
		printf("response %u ", m->status);
		txt(b, m->reason);
		printf("\n");
	}
	printf("  offset %zu, length %u (headers %u, body %u), %u header fields\n",
	       base, m->msg_len, m->hdr_end, m->body.len, m->n_headers);
	printf("  call-id ");
	txt(b, m->call_id);
	printf("\n  cseq %u %s\n", m->cseq, NAME(method_names, m->cseq_method));
	if (m->has_content_length)
		printf("  content-length %u\n", m->content_length);
	else
		printf("  content-length absent (body is the rest of the datagram)\n");
	if (m->content_type.len) {
		printf("  content-type ");
		txt(b, m->content_type);
		printf("\n");
	}
	if (m->has_expires)
		printf("  expires %u\n", m->expires);
	for (i = 0; i < m->n_vias; i++) {
		const struct sip_via *v = &m->via[i];

		printf("  via[%u] %s ", i, NAME(tp_names, v->transport));
		human_hostport(b, &v->sent_by);
		printf("%s%s%s\n", v->has_rport ? " rport" : "",
		       v->has_received ? " received" : "", v->has_branch ? " branch" : "");
	}
	for (i = 0; i < m->n_contacts; i++) {
		const struct sip_contact *c = &m->contact[i];

		printf("  contact[%u] ", i);
		if (c->star) {
			printf("*\n");
			continue;
		}
		txt(b, c->uri);
		if (!c->nonsip) {
			printf(" host ");
			human_hostport(b, &c->hp);
		}
		if (c->tls)
			printf(" tls");
		if (c->has_expires)
			printf(" expires=%u", c->expires);
		printf("\n");
	}
	for (i = 0; i < m->n_sdp; i++) {
		printf("  sdp[%u] %u bytes at %zu, c=", i, m->sdp[i].body.len, base + m->sdp[i].body.off);
		human_conn(b, &m->sdp[i].conn);
		printf("%s\n", m->sdp[i].has_ice ? ", ICE (never rewritten)" : "");
	}
	for (i = 0; i < m->n_media; i++) {
		const struct sip_media *md = &m->media[i];

		printf("  media[%u] ", i);
		txt(b, md->media);
		printf(" port %u", md->portval);
		if (md->nports > 1)
			printf("/%u", md->nports);
		printf(" ");
		txt(b, md->proto);
		printf(" c=");
		human_conn(b, &md->conn);
		if (md->rtcp_port)
			printf(" rtcp %u", md->rtcp_port);
		printf(" %s%s\n", NAME(dir_names, md->dir), md->is_udp ? "" : " (no pinhole: not UDP)");
	}
}

struct parse_ctx {
	bool json;
	struct json j;
	unsigned int n;
};

static void parse_hook(void *ctx, size_t base, const unsigned char *msgbuf,
		       const struct sip_msg *msg, const struct sip_plan *plan)
{
	struct parse_ctx *pc = ctx;

	(void)plan;
	if (pc->json) {
		struct view v = { msgbuf, base, &pc->j };

		json_message(&v, msg);
	} else {
		human_message(msgbuf, base, msg);
	}
	pc->n++;
}

static void parse_usage(FILE *f)
{
	fputs("Usage: sipalgctl parse [-j|--json] [--tcp] FILE|-\n"
	      "Parse one SIP message (a UDP datagram; with --tcp, every message of a\n"
	      "TCP segment) as the sipalg module does and print what was found.\n"
	      "Spans are [offset, length] into the input.\n"
	      "Exit status: 0 well-formed, 1 malformed (reason and offset on stderr),\n"
	      "2 usage error or unreadable input.\n", f);
}

int cmd_parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "tcp", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct parse_ctx pc = { 0 };
	struct sip_xlat x = { 0 };
	struct rw_result res;
	unsigned char *in, *out;
	size_t len, out_len;
	bool tcp = false;
	int c;

	while ((c = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			pc.json = true;
			break;
		case 't':
			tcp = true;
			break;
		case 'h':
			parse_usage(stdout);
			return 0;
		default:
			parse_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		parse_usage(stderr);
		return 2;
	}
	in = read_input(argv[optind], &len);
	if (!in)
		return 2;
	x.mode = SIP_MODE_PINHOLE;
	json_init(&pc.j, stdout);
	if (pc.json && tcp)
		json_arr_begin(&pc.j);
	out = rw_buffer(in, len, tcp, &x, false, &out_len, &res, parse_hook, &pc);
	free(out);
	if (res.reason != SIP_OK && pc.json) {
		json_obj_begin(&pc.j);
		json_key(&pc.j, "verdict");
		json_str(&pc.j, "malformed");
		json_key(&pc.j, "reason");
		json_str(&pc.j, sip_reason_name(res.reason));
		json_key(&pc.j, "offset");
		json_int(&pc.j, (long long)res.err_off);
		json_obj_end(&pc.j);
	}
	if (pc.json) {
		if (tcp)
			json_arr_end(&pc.j);
		if (tcp || pc.n || res.reason != SIP_OK)
			json_finish(&pc.j);
	}
	if (!tcp && !pc.json && res.reason == SIP_OK && out_len > 0 && pc.n == 1) {
		/* report UDP trailing octets: they pass untouched */
		struct sip_msg *m = malloc(sizeof(*m));

		if (m && sip_parse(in, len, 0, m) == SIP_OK && m->msg_len < len)
			printf("  %zu trailing bytes after Content-Length (passed unchanged)\n",
			       len - m->msg_len);
		free(m);
	}
	if (res.reason != SIP_OK)
		report_malformed("parse", in, &res);
	free(in);
	return res.reason == SIP_OK ? 0 : 1;
}

struct rewrite_ctx {
	bool verbose;
};

static const char *const edit_kinds[] = { "via", "contact", "sdp-c", "sdp-m-port", "content-length" };

static void rewrite_hook(void *ctx, size_t base, const unsigned char *msgbuf,
			 const struct sip_msg *msg, const struct sip_plan *plan)
{
	struct rewrite_ctx *rc = ctx;
	unsigned int i;

	(void)msg;
	if (!rc->verbose)
		return;
	for (i = 0; i < plan->n_edits; i++) {
		const struct sip_edit *e = &plan->edit[i];

		fprintf(stderr, "edit %s at %zu: \"%.*s\" -> \"%.*s\"\n",
			NAME(edit_kinds, e->kind), base + e->off, e->len,
			(const char *)msgbuf + e->off, e->repl_len, e->repl);
	}
	for (i = 0; i < plan->n_pinholes; i++) {
		const struct sip_pinhole *p = &plan->pinhole[i];
		char a[64];
		size_t n = sip_addr_format(&p->dst.addr, true, a, sizeof(a));

		fprintf(stderr, "pinhole %s %s %.*s:%u (media %u)\n",
			p->kind == SIP_PINHOLE_RTP ? "rtp" : "rtcp",
			p->l4proto == 17 ? "udp" : "tcp", (int)n, a, p->dst.port, p->media);
	}
}

static void rewrite_usage(FILE *f)
{
	fputs("Usage: sipalgctl rewrite --internal ADDR[:PORT] --external ADDR[:PORT]\n"
	      "                         [--reply] [--media-port OLD=NEW]...\n"
	      "                         [--mode rewrite|pinhole] [--tcp] [-v] FILE|-\n"
	      "Write to stdout exactly the bytes the sipalg module would send for the\n"
	      "message in FILE, on a flow NATed from --internal to --external.\n"
	      "  --reply           the message travels towards the NATed side\n"
	      "  --media-port O=N  the media pinhole for m= port O got public port N\n"
	      "  --mode pinhole    rewrite nothing (pinholes only)\n"
	      "  --tcp             FILE is a TCP segment: every complete message\n"
	      "  -v, --verbose     list edits and pinholes on stderr\n"
	      "IPv6 as [addr]:port; PORT defaults to 5060.\n"
	      "Exit status: 0 rewritten or nothing to do, 1 malformed (stdout is the\n"
	      "input byte for byte), 2 usage error or unreadable input.\n", f);
}

static int parse_port(const char *s, const char *end, unsigned short *port)
{
	unsigned long v = 0;
	const char *p;

	if (s == end || end - s > 5)
		return -1;
	for (p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (unsigned short)v;
	return 0;
}

int cmd_rewrite(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "internal", required_argument, NULL, 'i' },
		{ "external", required_argument, NULL, 'e' },
		{ "reply", no_argument, NULL, 'r' },
		{ "media-port", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "tcp", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sip_port_map map[MAX_MEDIA_MAP];
	struct rewrite_ctx rc = { false };
	struct sip_xlat x = { 0 };
	bool have_int = false, have_ext = false, tcp = false;
	struct rw_result res;
	unsigned char *in, *out;
	size_t len, out_len;
	int c, rcode;

	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		const char *eq;

		switch (c) {
		case 'i':
		case 'e':
			if (rw_parse_endpoint(optarg, c == 'i' ? &x.internal : &x.external)) {
				fprintf(stderr, "sipalgctl rewrite: bad address \"%s\"\n", optarg);
				return 2;
			}
			if (c == 'i')
				have_int = true;
			else
				have_ext = true;
			break;
		case 'r':
			x.side = SIP_RECEIVER_NATED;
			break;
		case 'm':
			eq = strchr(optarg, '=');
			if (x.n_media_map == MAX_MEDIA_MAP || !eq ||
			    parse_port(optarg, eq, &map[x.n_media_map].old_port) ||
			    parse_port(eq + 1, eq + strlen(eq), &map[x.n_media_map].new_port)) {
				fprintf(stderr, "sipalgctl rewrite: bad --media-port \"%s\" (OLD=NEW, ports 1..65535)\n",
					optarg);
				return 2;
			}
			x.n_media_map++;
			break;
		case 'M':
			if (!strcmp(optarg, "rewrite")) {
				x.mode = SIP_MODE_REWRITE;
			} else if (!strcmp(optarg, "pinhole")) {
				x.mode = SIP_MODE_PINHOLE;
			} else {
				fprintf(stderr, "sipalgctl rewrite: bad --mode \"%s\" (rewrite|pinhole)\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			tcp = true;
			break;
		case 'v':
			rc.verbose = true;
			break;
		case 'h':
			rewrite_usage(stdout);
			return 0;
		default:
			rewrite_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !have_int || !have_ext) {
		rewrite_usage(stderr);
		return 2;
	}
	if (x.internal.addr.family != x.external.addr.family) {
		fprintf(stderr, "sipalgctl rewrite: --internal and --external must be of one address family\n");
		return 2;
	}
	x.media_map = map;
	in = read_input(argv[optind], &len);
	if (!in)
		return 2;
	out = rw_buffer(in, len, tcp, &x, false, &out_len, &res, rewrite_hook, &rc);
	if (!out) {
		fprintf(stderr, "sipalgctl rewrite: out of memory\n");
		free(in);
		return 2;
	}
	rcode = res.reason == SIP_OK ? 0 : 1;
	if (rcode)
		report_malformed("rewrite", in, &res);
	if (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout)) {
		fprintf(stderr, "sipalgctl rewrite: write error\n");
		rcode = 2;
	}
	free(out);
	free(in);
	return rcode;
}
