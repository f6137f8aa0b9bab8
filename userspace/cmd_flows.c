// SPDX-License-Identifier: GPL-2.0
/*
 * flows: the conntracks sipalg handles (helper "sipalg", whichever way it
 * was attached) and their pinholes (the expectations they opened), read
 * from ctnetlink with libnetfilter_conntrack; the media pinholes grouped
 * by the call they belong to (SIPALG_CMD_CALLS_GET: the flow's conntrack
 * id, a hash of the Call-ID and the pinholes' public ports).  A module
 * without that command gives the list without calls.
 */
#include "ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/genetlink.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "genl.h"
#include "json.h"
#include "sipalgctl.h"

#define HELPER "sipalg"

struct endpoint {
	bool any;		/* wildcard (an expectation's source) */
	char addr[INET6_ADDRSTRLEN];
	unsigned int port;
	bool any_port;
};

struct pinhole {
	unsigned int class;
	struct endpoint src, dst, to;
	bool nat;
	unsigned int timeout;
	bool in_call;
	uint32_t call;		/* its call's hash, with in_call */
	struct pinhole *next;
};

/* A call with media pinholes, as SIPALG_CMD_CALLS_GET gives it. */
struct call {
	uint32_t flow, hash;
	unsigned int n;
	uint32_t pinhole[64];
};

struct call_list {
	struct call *v;
	size_t n, cap;
	int err;
};

struct flow {
	uint8_t l3, l4;
	struct endpoint orig_src, orig_dst, repl_src, repl_dst;
	unsigned int timeout;
	bool assured;
	uint32_t id;		/* ATTR_ID */
	struct pinhole *pinholes;
	/* the master tuple as ctnetlink gives it, to match expectations */
	struct nf_conntrack *ct;
};

struct flow_list {
	struct flow *v;
	size_t n, cap;
	int err;
};

/* @l3: the flow's family (an expectation's tuples may not say it). */
static void endpoint_of(const struct nf_conntrack *ct, uint8_t l3, bool reply,
			bool src, struct endpoint *e)
{
	const void *addr;
	int a4, a6, p;

	if (reply) {
		a4 = src ? ATTR_REPL_IPV4_SRC : ATTR_REPL_IPV4_DST;
		a6 = src ? ATTR_REPL_IPV6_SRC : ATTR_REPL_IPV6_DST;
		p = src ? ATTR_REPL_PORT_SRC : ATTR_REPL_PORT_DST;
	} else {
		a4 = src ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV4_DST;
		a6 = src ? ATTR_ORIG_IPV6_SRC : ATTR_ORIG_IPV6_DST;
		p = src ? ATTR_ORIG_PORT_SRC : ATTR_ORIG_PORT_DST;
	}
	addr = nfct_get_attr(ct, l3 == AF_INET6 ? a6 : a4);
	memset(e, 0, sizeof(*e));
	if (!addr || !inet_ntop(l3 == AF_INET6 ? AF_INET6 : AF_INET, addr,
				e->addr, sizeof(e->addr)))
		snprintf(e->addr, sizeof(e->addr), "?");
	e->port = ntohs(nfct_get_attr_u16(ct, p));
}

static int flow_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct,
		   void *data)
{
	struct flow_list *l = data;
	struct flow *f, *v;
	const char *helper;

	(void)type;
	helper = nfct_attr_is_set(ct, ATTR_HELPER_NAME) ?
		 nfct_get_attr(ct, ATTR_HELPER_NAME) : NULL;
	if (!helper || strcmp(helper, HELPER))
		return NFCT_CB_CONTINUE;
	v = ctl_grow(l->v, l->n, &l->cap, sizeof(*l->v));
	if (!v) {
		l->err = -ENOMEM;
		return NFCT_CB_STOP;
	}
	l->v = v;
	f = &l->v[l->n++];
	memset(f, 0, sizeof(*f));
	f->l3 = nfct_get_attr_u8(ct, ATTR_L3PROTO);
	f->l4 = nfct_get_attr_u8(ct, ATTR_L4PROTO);
	endpoint_of(ct, f->l3, false, true, &f->orig_src);
	endpoint_of(ct, f->l3, false, false, &f->orig_dst);
	endpoint_of(ct, f->l3, true, true, &f->repl_src);
	endpoint_of(ct, f->l3, true, false, &f->repl_dst);
	f->timeout = nfct_attr_is_set(ct, ATTR_TIMEOUT) ?
		     nfct_get_attr_u32(ct, ATTR_TIMEOUT) : 0;
	f->assured = nfct_attr_is_set(ct, ATTR_STATUS) &&
		     (nfct_get_attr_u32(ct, ATTR_STATUS) & IPS_ASSURED);
	f->id = nfct_attr_is_set(ct, ATTR_ID) ? nfct_get_attr_u32(ct, ATTR_ID) : 0;
	f->ct = ct;
	return NFCT_CB_STOLEN;
}

/* The expectation's master is the flow's original tuple. */
static bool same_master(const struct flow *f, const struct nf_conntrack *m)
{
	struct endpoint src, dst;

	if (nfct_get_attr_u8(m, ATTR_L3PROTO) != f->l3 ||
	    nfct_get_attr_u8(m, ATTR_L4PROTO) != f->l4)
		return false;
	endpoint_of(m, f->l3, false, true, &src);
	endpoint_of(m, f->l3, false, false, &dst);
	return !strcmp(src.addr, f->orig_src.addr) && src.port == f->orig_src.port &&
	       !strcmp(dst.addr, f->orig_dst.addr) && dst.port == f->orig_dst.port;
}

static bool src_is_any(const struct nf_conntrack *mask, uint8_t l3)
{
	static const uint8_t zero[16];
	const void *a;

	a = nfct_get_attr(mask, l3 == AF_INET6 ? ATTR_ORIG_IPV6_SRC :
						 ATTR_ORIG_IPV4_SRC);
	return !a || !memcmp(a, zero, l3 == AF_INET6 ? 16 : 4);
}

static int exp_cb(enum nf_conntrack_msg_type type, struct nf_expect *exp,
		  void *data)
{
	const struct nf_conntrack *expected, *mask, *master, *nat;
	struct flow_list *l = data;
	struct pinhole *p;
	const char *helper;
	uint8_t l3;
	size_t i;

	(void)type;
	helper = nfexp_attr_is_set(exp, ATTR_EXP_HELPER_NAME) ?
		 nfexp_get_attr(exp, ATTR_EXP_HELPER_NAME) : NULL;
	if (!helper || strcmp(helper, HELPER))
		return NFCT_CB_CONTINUE;
	master = nfexp_get_attr(exp, ATTR_EXP_MASTER);
	expected = nfexp_get_attr(exp, ATTR_EXP_EXPECTED);
	mask = nfexp_get_attr(exp, ATTR_EXP_MASK);
	if (!master || !expected || !mask)
		return NFCT_CB_CONTINUE;
	for (i = 0; i < l->n; i++)
		if (same_master(&l->v[i], master))
			break;
	if (i == l->n)
		return NFCT_CB_CONTINUE;	/* its flow ended meanwhile */
	l3 = l->v[i].l3;
	p = calloc(1, sizeof(*p));
	if (!p) {
		l->err = -ENOMEM;
		return NFCT_CB_STOP;
	}
	p->class = nfexp_attr_is_set(exp, ATTR_EXP_CLASS) ?
		   nfexp_get_attr_u32(exp, ATTR_EXP_CLASS) : 0;
	p->timeout = nfexp_get_attr_u32(exp, ATTR_EXP_TIMEOUT);
	endpoint_of(expected, l3, false, true, &p->src);
	endpoint_of(expected, l3, false, false, &p->dst);
	p->src.any = src_is_any(mask, l3);
	p->src.any_port = !nfct_get_attr_u16(mask, ATTR_ORIG_PORT_SRC);
	nat = nfexp_attr_is_set(exp, ATTR_EXP_NAT_TUPLE) ?
	      nfexp_get_attr(exp, ATTR_EXP_NAT_TUPLE) : NULL;
	if (nat) {
		p->nat = true;
		endpoint_of(nat, l3, false, true, &p->to);
	}
	/* Keep the order conntrack lists them in. */
	{
		struct pinhole **tail = &l->v[i].pinholes;

		while (*tail)
			tail = &(*tail)->next;
		*tail = p;
	}
	return NFCT_CB_CONTINUE;
}

static const char *l4_name(uint8_t l4)
{
	return l4 == IPPROTO_UDP ? "udp" : l4 == IPPROTO_TCP ? "tcp" : "?";
}

static const char *class_name(unsigned int class)
{
	return class == SIPALG_EXPECT_CLASS_SIGNALLING ? "signalling" :
	       class == SIPALG_EXPECT_CLASS_MEDIA ? "media" : "other";
}

static void text_endpoint(const struct endpoint *e, bool v6)
{
	if (e->any)
		fputs("any", stdout);
	else if (v6)
		printf("[%s]", e->addr);
	else
		fputs(e->addr, stdout);
	if (!e->any_port)
		printf(":%u", e->port);
}

static bool endpoint_eq(const struct endpoint *a, const struct endpoint *b)
{
	return a->port == b->port && !strcmp(a->addr, b->addr);
}

/* Has @p's call (or, with !in_call, no call) been printed before @p? */
static bool group_seen(const struct flow *f, const struct pinhole *p)
{
	const struct pinhole *q;

	for (q = f->pinholes; q != p; q = q->next)
		if (q->in_call == p->in_call && q->call == p->call)
			return true;
	return false;
}

/*
 * The pinholes of @f grouped by call, calls in the order conntrack lists
 * their first pinhole, those of no call last: calls @show for each.
 */
static void for_each_grouped(const struct flow *f,
			     void (*show)(const struct pinhole *p, void *arg),
			     void *arg)
{
	const struct pinhole *p, *q;
	int pass;

	for (pass = 0; pass < 2; pass++)
		for (p = f->pinholes; p; p = p->next) {
			if (p->in_call != !pass || group_seen(f, p))
				continue;
			for (q = p; q; q = q->next)
				if (q->in_call == p->in_call && q->call == p->call)
					show(q, arg);
		}
}

static void text_pinhole(const struct pinhole *p, void *arg)
{
	const struct flow *f = arg;
	bool v6 = f->l3 == AF_INET6;

	printf("  pinhole %s %s ", class_name(p->class), l4_name(f->l4));
	text_endpoint(&p->src, v6);
	fputs(" -> ", stdout);
	text_endpoint(&p->dst, v6);
	if (p->nat) {
		fputs(" to ", stdout);
		text_endpoint(&p->to, v6);
	}
	printf(" timeout %u", p->timeout);
	if (p->in_call)
		printf(" call %08x", p->call);
	putchar('\n');
}

static void print_text(const struct flow_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct flow *f = &l->v[i];
		bool v6 = f->l3 == AF_INET6;

		printf("%s ", l4_name(f->l4));
		text_endpoint(&f->orig_src, v6);
		fputs(" -> ", stdout);
		text_endpoint(&f->orig_dst, v6);
		/* Where NAT put the flow: its reply tuple, reversed. */
		if (!endpoint_eq(&f->repl_dst, &f->orig_src)) {
			fputs(" snat ", stdout);
			text_endpoint(&f->repl_dst, v6);
		}
		if (!endpoint_eq(&f->repl_src, &f->orig_dst)) {
			fputs(" dnat ", stdout);
			text_endpoint(&f->repl_src, v6);
		}
		printf(" timeout %u%s\n", f->timeout, f->assured ? " assured" : "");
		for_each_grouped(f, text_pinhole, (void *)f);
	}
}

static void json_endpoint(struct json *j, const char *addr_key,
			  const char *port_key, const struct endpoint *e)
{
	json_key(j, addr_key);
	if (e->any)
		json_null(j);
	else
		json_str(j, e->addr);
	json_key(j, port_key);
	if (e->any_port)
		json_null(j);
	else
		json_int(j, e->port);
}

static void json_pinhole(const struct pinhole *p, void *arg)
{
	struct json *j = arg;
	char call[9];

	json_obj_begin(j);
	json_key(j, "class");
	json_str(j, class_name(p->class));
	json_endpoint(j, "src", "sport", &p->src);
	json_endpoint(j, "dst", "dport", &p->dst);
	json_key(j, "to");
	if (p->nat)
		json_str(j, p->to.addr);
	else
		json_null(j);
	json_key(j, "to_port");
	if (p->nat)
		json_int(j, p->to.port);
	else
		json_null(j);
	json_key(j, "timeout");
	json_int(j, p->timeout);
	json_key(j, "call");
	if (p->in_call) {
		snprintf(call, sizeof(call), "%08x", p->call);
		json_str(j, call);
	} else {
		json_null(j);
	}
	json_obj_end(j);
}

static void print_json(const struct flow_list *l)
{
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_arr_begin(&j);
	for (i = 0; i < l->n; i++) {
		const struct flow *f = &l->v[i];

		json_obj_begin(&j);
		json_key(&j, "family");
		json_str(&j, f->l3 == AF_INET6 ? "ipv6" : "ipv4");
		json_key(&j, "proto");
		json_str(&j, l4_name(f->l4));
		json_endpoint(&j, "src", "sport", &f->orig_src);
		json_endpoint(&j, "dst", "dport", &f->orig_dst);
		json_endpoint(&j, "reply_src", "reply_sport", &f->repl_src);
		json_endpoint(&j, "reply_dst", "reply_dport", &f->repl_dst);
		json_key(&j, "timeout");
		json_int(&j, f->timeout);
		json_key(&j, "assured");
		json_bool(&j, f->assured);
		json_key(&j, "pinholes");
		json_arr_begin(&j);
		for_each_grouped(f, json_pinhole, &j);
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_finish(&j);
}

static void flows_usage(FILE *f)
{
	fputs("Usage: sipalgctl flows [-j|--json]\n"
	      "List the connections sipalg handles in this network namespace (conntrack\n"
	      "entries with helper \"sipalg\": addresses and ports, where NAT put them,\n"
	      "seconds left) and the pinholes each has open (class, from where, to\n"
	      "which public address and port, where they are forwarded, seconds left),\n"
	      "a call's media pinholes together, marked with a hash of its Call-ID.\n"
	      "Needs CAP_NET_ADMIN (conntrack tables).\n"
	      "Exit status: 0 done, 1 failed, 2 usage error, 3 module not loaded,\n"
	      "4 permission denied.\n", f);
}

/* The conntracks, or with @expectations the expectations, into @l. */
static int dump(bool expectations, struct flow_list *l)
{
	uint32_t family = AF_UNSPEC;
	struct nfct_handle *h;
	int ret;

	h = nfct_open(expectations ? EXPECT : CONNTRACK, 0);
	if (!h)
		return -errno;
	if (!expectations) {
		nfct_callback_register(h, NFCT_T_ALL, flow_cb, l);
		ret = nfct_query(h, NFCT_Q_DUMP, &family);
	} else {
		nfexp_callback_register(h, NFCT_T_ALL, exp_cb, l);
		ret = nfexp_query(h, NFCT_Q_DUMP, &family);
	}
	if (ret < 0)
		ret = -errno;
	nfct_close(h);
	return ret < 0 ? ret : l->err;
}

static int call_cb(const struct nlmsghdr *nlh, void *data)
{
	struct call_list *cl = data;
	const struct nlattr *a;
	struct call *c, *v;

	v = ctl_grow(cl->v, cl->n, &cl->cap, sizeof(*cl->v));
	if (!v) {
		cl->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	cl->v = v;
	c = &cl->v[cl->n++];
	memset(c, 0, sizeof(*c));
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_payload_len(a) != sizeof(uint32_t))
			continue;
		if (mnl_attr_get_type(a) == SIPALG_A_CALL_FLOW)
			c->flow = mnl_attr_get_u32(a);
		else if (mnl_attr_get_type(a) == SIPALG_A_CALL_HASH)
			c->hash = mnl_attr_get_u32(a);
		else if (mnl_attr_get_type(a) == SIPALG_A_CALL_PINHOLE &&
			 c->n < sizeof(c->pinhole) / sizeof(c->pinhole[0]))
			c->pinhole[c->n++] = mnl_attr_get_u32(a);
	}
	return MNL_CB_OK;
}

/*
 * The calls, into @cl; a module without SIPALG_CMD_CALLS_GET (older) has
 * none to give, which is not an error.
 */
static int get_calls(struct sgenl *g, struct call_list *cl)
{
	char buf[SGENL_MSG_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = sgenl_request(g, buf, SIPALG_CMD_CALLS_GET, true);
	ret = sgenl_talk(g, nlh, call_cb, cl);
	if (ret == -EOPNOTSUPP || ret == -EINVAL) {
		cl->n = 0;
		return 0;
	}
	return ret ? ret : cl->err;
}

/*
 * Mark each media pinhole with its call: the call's flow is the
 * pinhole's (the kernel's conntrack id: libnetfilter_conntrack gives
 * ctnetlink's CTA_ID in host order, the module the same bytes as they are)
 * and it lists the pinhole's public port.
 */
static void mark_calls(struct flow_list *l, const struct call_list *cl)
{
	size_t i, k;
	unsigned int n;

	for (i = 0; i < l->n; i++) {
		struct flow *f = &l->v[i];
		struct pinhole *p;

		for (p = f->pinholes; p; p = p->next) {
			if (p->class != SIPALG_EXPECT_CLASS_MEDIA)
				continue;
			for (k = 0; k < cl->n && !p->in_call; k++) {
				const struct call *c = &cl->v[k];

				if (c->flow != htonl(f->id) && c->flow != f->id)
					continue;
				for (n = 0; n < c->n; n++)
					if (SIPALG_CALL_PINHOLE_PORT(c->pinhole[n]) ==
					    p->dst.port) {
						p->in_call = true;
						p->call = c->hash;
						break;
					}
			}
		}
	}
}

int cmd_flows(int argc, char **argv)
{
	struct flow_list l = { 0 };
	struct call_list cl = { 0 };
	bool want_json = false;
	struct sgenl g;
	size_t i;
	int ret;

	ret = ctl_options(argc, argv, flows_usage, &want_json, NULL, NULL);
	if (ret >= 0)
		return ret;
	if (optind != argc) {
		flows_usage(stderr);
		return EXIT_USAGE;
	}
	/* Without the module there are no such flows: say why. */
	ret = sgenl_open(&g);
	if (ret)
		return ret;

	ret = dump(false, &l);
	if (!ret)
		ret = dump(true, &l);
	if (!ret)
		ret = get_calls(&g, &cl);
	sgenl_close(&g);
	if (!ret)
		mark_calls(&l, &cl);
	if (ret == -EPERM) {
		fprintf(stderr, "sipalgctl: permission denied: needs CAP_NET_ADMIN\n");
		ret = EXIT_PERM;
	} else if (ret) {
		fprintf(stderr, "sipalgctl: cannot read the conntrack tables: %s\n",
			strerror(-ret));
		ret = EXIT_FAIL;
	} else {
		if (want_json)
			print_json(&l);
		else
			print_text(&l);
	}
	for (i = 0; i < l.n; i++) {
		struct pinhole *p = l.v[i].pinholes, *next;

		for (; p; p = next) {
			next = p->next;
			free(p);
		}
		nfct_destroy(l.v[i].ct);
	}
	free(l.v);
	free(cl.v);
	return ret;
}
