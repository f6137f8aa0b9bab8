// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the core against the core of an earlier commit (built
 * by `make fuzz-diff REF=...` with its symbols renamed ref_*).  Changes
 * meant to keep behaviour (speed work) must give, on every input and both
 * framings, the same verdict and error offset, the same message
 * description (spans, values, flags) and the same plans for a few
 * translations drawn from the message.  The two cores must share
 * sip_core.h's structures.  Address bytes of host names and of non-IP c=
 * are not compared: they mean nothing without a family.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_core.h"
#include "xlat.h"

enum sip_reason ref_sip_parse(const u8 *buf, size_t len, unsigned int flags,
			      struct sip_msg *msg);
void ref_sip_plan(const u8 *buf, const struct sip_msg *msg,
		  const struct sip_xlat *xlat, struct sip_plan *plan);

static struct sip_msg m1, m2;
static struct sip_plan p1, p2;

static void differ(const char *what)
{
	fprintf(stderr, "core and ref core differ: %s\n", what);
	abort();
}

static void norm_hp(struct sip_hostport *hp)
{
	if (hp->host_kind == SIP_HOST_NAME)
		memset(&hp->addr, 0, sizeof(hp->addr));
}

static void norm_conn(struct sip_sdp_conn *c)
{
	if (!c->ip.family)
		memset(&c->ip, 0, sizeof(c->ip));
}

static void norm(struct sip_msg *m)
{
	unsigned int i;

	for (i = 0; i < m->n_vias; i++)
		norm_hp(&m->via[i].sent_by);
	for (i = 0; i < m->n_contacts; i++)
		norm_hp(&m->contact[i].hp);
	for (i = 0; i < m->n_sdp; i++)
		norm_conn(&m->sdp[i].conn);
	for (i = 0; i < m->n_media; i++)
		norm_conn(&m->media[i].conn);
}

#define SAME(field, n) do {						\
	if (memcmp(m1.field, m2.field, sizeof(m1.field[0]) * (n)))	\
		differ(#field);						\
} while (0)

static void compare_msgs(void)
{
	norm(&m1);
	norm(&m2);
	if (memcmp(&m1, &m2, __builtin_offsetof(struct sip_msg, hdr)))
		differ("message fields");
	SAME(hdr, m1.n_headers);
	SAME(via, m1.n_vias);
	SAME(contact, m1.n_contacts);
	SAME(sdp, m1.n_sdp);
	SAME(media, m1.n_media);
}

static void compare_plans(void)
{
	unsigned int i;

	if (p1.n_edits != p2.n_edits || p1.n_pinholes != p2.n_pinholes ||
	    p1.delta != p2.delta || p1.new_content_length != p2.new_content_length)
		differ("plan");
	for (i = 0; i < p1.n_edits; i++)
		if (p1.edit[i].off != p2.edit[i].off || p1.edit[i].len != p2.edit[i].len ||
		    p1.edit[i].kind != p2.edit[i].kind ||
		    p1.edit[i].repl_len != p2.edit[i].repl_len ||
		    memcmp(p1.edit[i].repl, p2.edit[i].repl, p1.edit[i].repl_len))
			differ("edit");
	if (memcmp(p1.pinhole, p2.pinhole, sizeof(p1.pinhole[0]) * p1.n_pinholes))
		differ("pinholes");
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	unsigned long long h = fnv(data, size);
	unsigned int flags = (h >> 2) & 1 ? SIP_PARSE_STREAM : 0, k;
	enum sip_reason r1, r2;

	/* whole structures zeroed: what is not written compares equal */
	memset(&m1, 0, sizeof(m1));
	memset(&m2, 0, sizeof(m2));
	r1 = sip_parse(data, size, flags, &m1);
	r2 = ref_sip_parse(data, size, flags, &m2);
	if (r1 != r2) {
		fprintf(stderr, "%s at %u, ref %s at %u\n", sip_reason_name(r1), m1.err_off,
			sip_reason_name(r2), m2.err_off);
		differ("verdict");
	}
	if (r1 == SIP_R_KEEPALIVE) {
		if (m1.msg_len != m2.msg_len)
			differ("keepalive length");
		return 0;
	}
	if (r1 != SIP_OK) {
		if (m1.err_off != m2.err_off) {
			fprintf(stderr, "%s at %u, ref at %u\n", sip_reason_name(r1), m1.err_off,
				m2.err_off);
			differ("error offset");
		}
		return 0;
	}
	compare_msgs();
	for (k = 0; k < 4; k++) {
		struct sip_port_map map[SIP_MAX_MEDIA];
		struct sip_xlat x;

		xlat_for(&m1, k, h, &x, map);
		memset(&p1, 0, sizeof(p1));
		memset(&p2, 0, sizeof(p2));
		sip_plan(data, &m1, &x, &p1);
		ref_sip_plan(data, &m2, &x, &p2);
		compare_plans();
	}
	return 0;
}
