// SPDX-License-Identifier: GPL-2.0
/*
 * Replays inputs through the core and prints a canonical text dump of what
 * it decided, the same on every architecture that runs the core right:
 *
 *   replay DIR...
 *
 * For every regular file of each DIR (in name order), and both framings
 * (one UDP datagram, a TCP segment): the verdict, the error offset and the
 * message description (spans, values, flags) of the first message; then,
 * for the four translations tests/fuzz/xlat.h draws from the input (as
 * the differential fuzzer does), the framing's result (rewrite.c: every
 * message, as the module walks a segment), each message's plan (edits
 * with their bytes, pinholes) and the length and FNV-1a hash of the
 * output bytes.  tests/arch/run.sh diffs the dumps of a cross build under
 * qemu-user against the x86-64 build's.  Address bytes of host names and
 * of non-IP c= are not printed: they mean nothing without a family.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_core.h"
#include "rewrite.h"
#include "xlat.h"

static struct sip_msg msg;

static void span(const char *name, struct sip_span s)
{
	printf(" %s=%u+%u", name, s.off, s.len);
}

static void addr(const char *name, const struct sip_addr *a)
{
	unsigned int i;

	printf(" %s=%u:", name, a->family);
	for (i = 0; i < sizeof(a->ip); i++)
		printf("%02x", a->ip[i]);
}

static void hostport(const struct sip_hostport *hp)
{
	span("host", hp->host);
	span("port", hp->port);
	printf(" portval=%u kind=%u", hp->portval, hp->host_kind);
	if (hp->host_kind != SIP_HOST_NAME)
		addr("addr", &hp->addr);
}

static void conn(const char *name, const struct sip_sdp_conn *c)
{
	printf(" %s{present=%u multicast=%u", name, c->present, c->multicast);
	span("addr", c->addr);
	if (c->ip.family)
		addr("ip", &c->ip);
	printf("}");
}

static void dump_scalars(const struct sip_msg *m)
{
	printf("msg len=%u hdr_end=%u request=%u has_cl=%u method=%u status=%u",
	       m->msg_len, m->hdr_end, m->is_request, m->has_content_length,
	       m->method, m->status);
	span("method", m->method_span);
	span("ruri", m->ruri);
	printf(" cseq=%u/%u", m->cseq, m->cseq_method);
	span("call_id", m->call_id);
	span("ctype", m->content_type);
	printf(" cl=%u", m->content_length);
	span("cl", m->content_length_span);
	printf(" expires=%u/%u", m->expires, m->has_expires);
	span("body", m->body);
	span("reason", m->reason);
	printf("\n");
}

static void dump_msg(const struct sip_msg *m)
{
	unsigned int i;

	dump_scalars(m);
	for (i = 0; i < m->n_headers; i++) {
		printf("hdr %u id=%u", i, m->hdr[i].id);
		span("name", m->hdr[i].name);
		span("value", m->hdr[i].value);
		printf("\n");
	}
	for (i = 0; i < m->n_vias; i++) {
		const struct sip_via *v = &m->via[i];

		printf("via %u tp=%u rport=%u received=%u branch=%u", i, v->transport,
		       v->has_rport, v->has_received, v->has_branch);
		span("value", v->value);
		hostport(&v->sent_by);
		printf("\n");
	}
	for (i = 0; i < m->n_contacts; i++) {
		const struct sip_contact *c = &m->contact[i];

		printf("contact %u star=%u sips=%u nonsip=%u tls=%u expires=%u/%u", i,
		       c->star, c->sips, c->nonsip, c->tls, c->expires, c->has_expires);
		span("value", c->value);
		span("uri", c->uri);
		if (!c->star && !c->nonsip)
			hostport(&c->hp);
		printf("\n");
	}
	for (i = 0; i < m->n_sdp; i++) {
		printf("sdp %u ice=%u", i, m->sdp[i].has_ice);
		span("body", m->sdp[i].body);
		span("origin", m->sdp[i].origin);
		conn("c", &m->sdp[i].conn);
		printf("\n");
	}
	for (i = 0; i < m->n_media; i++) {
		const struct sip_media *md = &m->media[i];

		printf("media %u port=%u/%u rtcp=%u dir=%u part=%u udp=%u rtp=%u", i,
		       md->portval, md->nports, md->rtcp_port, md->dir, md->part,
		       md->is_udp, md->is_rtp);
		span("media", md->media);
		span("port", md->port);
		span("proto", md->proto);
		conn("c", &md->conn);
		printf("\n");
	}
}

/* rw_hook: the plan of each message the framing parsed OK */
static void dump_plan(void *ctx, size_t base, const unsigned char *buf,
		      const struct sip_msg *m, const struct sip_plan *p)
{
	unsigned int i;

	(void)ctx;
	(void)buf;
	printf("plan at %zu len=%u edits=%u pinholes=%u delta=%d cl=%u\n", base,
	       m->msg_len, p->n_edits, p->n_pinholes, p->delta, p->new_content_length);
	for (i = 0; i < p->n_edits; i++)
		printf("edit %u+%u kind=%u \"%.*s\"\n", p->edit[i].off, p->edit[i].len,
		       p->edit[i].kind, p->edit[i].repl_len, p->edit[i].repl);
	for (i = 0; i < p->n_pinholes; i++) {
		printf("pinhole kind=%u proto=%u media=%u port=%u", p->pinhole[i].kind,
		       p->pinhole[i].l4proto, p->pinhole[i].media, p->pinhole[i].dst.port);
		addr("dst", &p->pinhole[i].dst.addr);
		printf("\n");
	}
}

static void replay(const unsigned char *in, size_t len, bool tcp)
{
	unsigned long long h = fnv(in, len);
	enum sip_reason r;
	unsigned int k;

	memset(&msg, 0, sizeof(msg));
	r = sip_parse(in, len, tcp ? SIP_PARSE_STREAM : 0, &msg);
	printf("%s verdict=%s", tcp ? "tcp" : "udp", sip_reason_name(r));
	if (r == SIP_OK)
		printf("\n");
	else
		printf(" err_off=%u msg_len=%u\n", msg.err_off, msg.msg_len);
	if (r == SIP_OK)
		dump_msg(&msg);
	for (k = 0; k < 4; k++) {
		struct sip_port_map map[SIP_MAX_MEDIA];
		struct rw_result res;
		struct sip_xlat x;
		unsigned char *out;
		size_t out_len;

		xlat_for(&msg, k, h, &x, map);
		printf("xlat %u side=%u mode=%u media_map=%u\n", k, x.side, x.mode,
		       x.n_media_map);
		out = rw_buffer(in, len, tcp, &x, true, &out_len, &res, dump_plan, NULL);
		if (!out) {
			perror("replay");
			exit(2);
		}
		printf("result %s at %zu messages=%u rewritten=%u keepalives=%u out=%zu/%016llx\n",
		       sip_reason_name(res.reason), res.err_off, res.messages, res.rewritten,
		       res.keepalives, out_len, fnv(out, out_len));
		free(out);
	}
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc(n ? (size_t)n : 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static int only_files(const struct dirent *d)
{
	return d->d_name[0] != '.' && (d->d_type == DT_REG || d->d_type == DT_UNKNOWN);
}

int main(int argc, char **argv)
{
	int i, j, n;

	if (argc < 2) {
		fprintf(stderr, "usage: replay DIR...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		struct dirent **names;

		n = scandir(argv[i], &names, only_files, alphasort);
		if (n < 0) {
			perror(argv[i]);
			return 2;
		}
		for (j = 0; j < n; j++) {
			char path[4096];
			unsigned char *in;
			size_t len;

			snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name);
			in = slurp(path, &len);
			if (!in) {
				perror(path);
				return 2;
			}
			printf("== %s (%zu bytes)\n", path, len);
			replay(in, len, false);
			replay(in, len, true);
			free(in);
			free(names[j]);
		}
		free(names);
	}
	return 0;
}
