// SPDX-License-Identifier: GPL-2.0
#include "genl.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "sipalgctl.h"

struct nlmsghdr *sgenl_request(struct sgenl *g, void *buf, uint8_t cmd,
			       bool dump)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *gh;

	nlh->nlmsg_type = g->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (dump ? NLM_F_DUMP : 0);
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = cmd;
	gh->version = SIPALG_GENL_VERSION;
	return nlh;
}

/* NLMSGERR_ATTR_MSG of an error message, if the kernel sent one. */
static void read_extack(struct sgenl *g, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	mnl_attr_for_each(attr, nlh, off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
			snprintf(g->extack, sizeof(g->extack), "%s",
				 mnl_attr_get_str(attr));
			return;
		}
	}
}

int sgenl_talk(struct sgenl *g, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	static char buf[SGENL_RECV_SIZE];
	const struct nlmsghdr *h;
	ssize_t n;

	nlh->nlmsg_seq = ++g->seq;
	g->extack[0] = '\0';
	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		int left;

		n = mnl_socket_recvfrom(g->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		left = (int)n;
		for (h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
		     h = mnl_nlmsg_next(h, &left)) {
			if (h->nlmsg_seq != g->seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

				if (e->error)
					read_extack(g, h);
				return e->error;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (mnl_nlmsg_get_payload_len(h) >= sizeof(err))
					memcpy(&err, mnl_nlmsg_get_payload(h), sizeof(err));
				return err;
			}
			if (cb && cb(h, data) < MNL_CB_OK)
				return -EPROTO;
		}
	}
}

struct family_reply {
	uint16_t id;
	uint32_t version;
};

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct family_reply *r = data;
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_FAMILY_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
				r->id = mnl_attr_get_u16(attr);
			break;
		case CTRL_ATTR_VERSION:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				r->version = mnl_attr_get_u32(attr);
			break;
		}
	}
	return MNL_CB_OK;
}

int sgenl_open(struct sgenl *g)
{
	char buf[SGENL_MSG_SIZE];
	struct family_reply fam = { 0 };
	struct nlmsghdr *nlh;
	int one = 1, err;

	memset(g, 0, sizeof(*g));
	g->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!g->nl || mnl_socket_bind(g->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "sipalgctl: cannot open a generic netlink socket: %s\n",
			strerror(errno));
		sgenl_close(g);
		return EXIT_FAIL;
	}
	/* Refusals carry a message; the request is not echoed back. */
	mnl_socket_setsockopt(g->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(g->nl, NETLINK_CAP_ACK, &one, sizeof(one));

	g->family = GENL_ID_CTRL;
	nlh = sgenl_request(g, buf, CTRL_CMD_GETFAMILY, false);
	((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, SIPALG_GENL_NAME);
	err = sgenl_talk(g, nlh, family_cb, &fam);
	if (err == -ENOENT || (!err && !fam.id)) {
		fprintf(stderr, "sipalgctl: the sipalg module is not loaded: modprobe sipalg\n");
		sgenl_close(g);
		return EXIT_NOMODULE;
	}
	if (err) {
		sgenl_fail(g, err, "cannot look up the sipalg netlink family");
		sgenl_close(g);
		return EXIT_FAIL;
	}
	if (fam.version != SIPALG_GENL_VERSION)
		fprintf(stderr, "sipalgctl: warning: the module speaks version %u of the sipalg netlink family, this sipalgctl %u\n",
			fam.version, SIPALG_GENL_VERSION);
	g->family = fam.id;
	return EXIT_OK;
}

void sgenl_close(struct sgenl *g)
{
	if (g->nl)
		mnl_socket_close(g->nl);
	g->nl = NULL;
}

int sgenl_fail(const struct sgenl *g, int err, const char *context)
{
	if (err == -EPERM) {
		fprintf(stderr, "sipalgctl: permission denied: needs CAP_NET_ADMIN\n");
		return EXIT_PERM;
	}
	fprintf(stderr, "sipalgctl: %s: %s\n", context,
		g->extack[0] ? g->extack : strerror(-err));
	return EXIT_FAIL;
}

static int parse_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= SIPALG_A_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

void sgenl_parse(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	memset(tb, 0, sizeof(*tb) * (SIPALG_A_MAX + 1));
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), parse_cb, tb);
}

unsigned int sgenl_ifindex(const char *name)
{
	unsigned int ifindex = 0;

	if (strlen(name) < IF_NAMESIZE)
		ifindex = if_nametoindex(name);
	if (!ifindex)
		fprintf(stderr, "sipalgctl: interface '%s' does not exist\n", name);
	return ifindex;
}
