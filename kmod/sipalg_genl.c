// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "sipalg" (uapi/linux/sipalg_genl.h,
 * uapi/sipalg.yaml): configure interfaces, read and reset counters.
 *
 * 6.1's genetlink has no split ops, so the table below is written by hand
 * with a policy per operation; with resv_start_op 0 every operation is
 * validated strictly (an attribute the operation does not take is
 * refused).  Values are range-checked here rather than in the policy so
 * that the refusal names the attribute's meaning.  Operations are
 * serialised by the genetlink mutex and take RTNL for the interface table.
 */
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>

#include "sipalg_ctl.h"

static struct genl_family sipalg_genl_family;

static const struct nla_policy set_policy[SIPALG_A_MAX + 1] = {
	[SIPALG_A_IFINDEX]	= { .type = NLA_U32 },
	[SIPALG_A_ENABLED]	= { .type = NLA_U8 },
	[SIPALG_A_MODE]		= { .type = NLA_U8 },
	[SIPALG_A_MALFORMED]	= { .type = NLA_U8 },
	[SIPALG_A_LIMIT_RATE]	= { .type = NLA_U32 },
	[SIPALG_A_LIMIT_BURST]	= { .type = NLA_U32 },
	[SIPALG_A_LIMIT_CALLS]	= { .type = NLA_U32 },
	[SIPALG_A_OVER_LIMIT]	= { .type = NLA_U8 },
};

static const struct nla_policy del_policy[SIPALG_A_MAX + 1] = {
	[SIPALG_A_IFINDEX]	= { .type = NLA_U32 },
	[SIPALG_A_FLUSH]	= { .type = NLA_FLAG },
};

/* IFACE_GET, STATS_GET, STATS_RESET */
static const struct nla_policy ifindex_policy[SIPALG_A_MAX + 1] = {
	[SIPALG_A_IFINDEX]	= { .type = NLA_U32 },
};

/*
 * nla_parse() keeps the last of an attribute given twice; a request that
 * names two interfaces or two modes is ambiguous, and is refused.  The
 * policy has already refused types past SIPALG_A_MAX.
 */
static int refuse_repeated(struct genl_info *info)
{
	unsigned long seen = 0;
	struct nlattr *a;
	int rem;

	BUILD_BUG_ON(SIPALG_A_MAX >= BITS_PER_LONG);
	nla_for_each_attr(a, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		if (nla_type(a) > SIPALG_A_MAX)
			continue;
		if (seen & BIT(nla_type(a))) {
			NL_SET_ERR_MSG_ATTR(info->extack, a,
					    "attribute given more than once");
			return -EINVAL;
		}
		seen |= BIT(nla_type(a));
	}
	return 0;
}

static int need_ifindex(struct genl_info *info)
{
	int err = refuse_repeated(info);

	if (err)
		return err;
	if (!info->attrs[SIPALG_A_IFINDEX]) {
		NL_SET_ERR_MSG(info->extack,
			       "missing SIPALG_A_IFINDEX: which interface");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, SIPALG_A_IFINDEX);
		return -EINVAL;
	}
	return 0;
}

static int ifindex_of(struct genl_info *info)
{
	return (int)nla_get_u32(info->attrs[SIPALG_A_IFINDEX]);
}

static void not_configured(struct genl_info *info)
{
	NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[SIPALG_A_IFINDEX],
			    "sipalg is not configured on this interface");
}

/*
 * An optional u8 attribute of at most @max into set->@field (and marks it in
 * mask); NL_SET_ERR_MSG_ATTR() wants a literal, hence a macro.
 */
#define GET_CHOICE(info, type, max, set, mask, field, msg) ({		\
	const struct nlattr *__a = (info)->attrs[type];			\
	int __err = 0;							\
									\
	if (__a && nla_get_u8(__a) > (max)) {				\
		NL_SET_ERR_MSG_ATTR((info)->extack, __a, msg);		\
		__err = -EINVAL;					\
	} else if (__a) {						\
		(set)->field = nla_get_u8(__a);				\
		(mask)->field = 1;					\
	}								\
	__err;								\
})

/* An optional limit attribute @type into *@limit: 0..SIPALG_LIMIT_MAX. */
static int get_limit(struct genl_info *info, int type, u32 *limit)
{
	const struct nlattr *a = info->attrs[type];

	*limit = SIPALG_LIMIT_INHERIT;
	if (!a)
		return 0;
	if (nla_get_u32(a) > SIPALG_LIMIT_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, a,
				    "a limit must be 0 (none) to 1000000");
		return -EINVAL;
	}
	*limit = nla_get_u32(a);
	return 0;
}

static int get_limits(struct genl_info *info, struct sipalg_limits *lim)
{
	return get_limit(info, SIPALG_A_LIMIT_RATE, &lim->rate) ?:
	       get_limit(info, SIPALG_A_LIMIT_BURST, &lim->burst) ?:
	       get_limit(info, SIPALG_A_LIMIT_CALLS, &lim->calls);
}

static int iface_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	union sipalg_iface_cfg set = {}, mask = {};
	struct sipalg_limits lim;
	int err;

	err = need_ifindex(info);
	if (!err)
		err = GET_CHOICE(info, SIPALG_A_ENABLED, 1, &set, &mask,
				 enabled, "enabled must be 0 or 1");
	if (!err)
		err = GET_CHOICE(info, SIPALG_A_MODE, SIPALG_MODE_MAX, &set,
				 &mask, mode,
				 "mode must be 0 (rewrite) or 1 (pinhole)");
	if (!err)
		err = GET_CHOICE(info, SIPALG_A_MALFORMED,
				 SIPALG_MALFORMED_ACTION_MAX, &set, &mask,
				 malformed, "malformed must be 0 (pass) or 1 (drop)");
	if (!err)
		err = GET_CHOICE(info, SIPALG_A_OVER_LIMIT, SIPALG_OVER_LIMIT_MAX,
				 &set, &mask, over_limit,
				 "over-limit must be 0 (pass) or 1 (drop)");
	if (!err)
		err = get_limits(info, &lim);
	if (err)
		return err;
	if (mask.over_limit)
		set.over_limit++;	/* 0 stands for the module's */

	/* Refuse a bad ifindex before turning conntrack on for it. */
	rcu_read_lock();
	if (ifindex_of(info) <= 0 ||
	    !dev_get_by_index_rcu(net, ifindex_of(info)))
		err = -ENODEV;
	rcu_read_unlock();
	if (!err) {
		err = sipalg_track(net);
		if (err)
			NL_SET_ERR_MSG(info->extack,
				       "cannot turn on connection tracking in this network namespace");
	}
	if (!err) {
		rtnl_lock();
		err = sipalg_iface_set(net, ifindex_of(info), &set, &mask,
				       &lim, info->extack);
		rtnl_unlock();
	}
	if (err == -ENODEV)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[SIPALG_A_IFINDEX],
				    "no interface with this ifindex in the network namespace");
	return err;
}

/*
 * Flows are flushed by the ifindex that assigned them, and the flows an
 * nftables rule assigned carry none (0): only a real interface of the
 * namespace may be named, or a flush would detach every one of those.
 */
static int flushable(struct net *net, struct genl_info *info)
{
	int err = 0;

	if (ifindex_of(info) <= 0) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[SIPALG_A_IFINDEX],
				    "ifindex must name an interface (1 or more)");
		return -EINVAL;
	}
	rcu_read_lock();
	if (!dev_get_by_index_rcu(net, ifindex_of(info)))
		err = -ENODEV;
	rcu_read_unlock();
	if (err)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[SIPALG_A_IFINDEX],
				    "no interface with this ifindex in the network namespace");
	return err;
}

static int iface_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	bool flush = nla_get_flag(info->attrs[SIPALG_A_FLUSH]);
	struct net *net = genl_info_net(info);
	unsigned int flows, expectations;
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = need_ifindex(info);
	if (!err && flush)
		err = flushable(net, info);
	if (err)
		return err;
	rtnl_lock();
	err = sipalg_iface_del(net, ifindex_of(info));
	rtnl_unlock();
	/* The flows of a forgotten interface can still be flushed. */
	if (err == -ENOENT && flush)
		err = 0;
	if (err) {
		not_configured(info);
		return err;
	}
	if (!flush)
		return 0;

	sipalg_iface_flush(net, ifindex_of(info), &flows, &expectations);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &sipalg_genl_family, 0,
				SIPALG_CMD_IFACE_DEL);
	if (!hdr ||
	    nla_put_u32(msg, SIPALG_A_IFINDEX, ifindex_of(info)) ||
	    nla_put_u32(msg, SIPALG_A_FLUSHED_FLOWS, flows) ||
	    nla_put_u32(msg, SIPALG_A_FLUSHED_EXPECTATIONS, expectations)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* RTNL held: the entry and the interface's name are stable. */
static int put_ifname(struct sk_buff *msg, struct net *net, int ifindex)
{
	const struct net_device *dev = __dev_get_by_index(net, ifindex);

	if (nla_put_u32(msg, SIPALG_A_IFINDEX, ifindex))
		return -EMSGSIZE;
	if (dev && nla_put_string(msg, SIPALG_A_IFNAME, dev->name))
		return -EMSGSIZE;
	return 0;
}

static int fill_iface(struct sk_buff *msg, struct net *net,
		      const struct sipalg_iface *iface, u32 portid, u32 seq,
		      int flags)
{
	union sipalg_iface_cfg cfg = iface->cfg;
	struct sipalg_limits lim;
	bool drop;
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &sipalg_genl_family, flags,
			  SIPALG_CMD_IFACE_GET);
	if (!hdr)
		return -EMSGSIZE;
	sipalg_policy_limits(iface, &lim, &drop);
	if (put_ifname(msg, net, iface->ifindex) ||
	    nla_put_u8(msg, SIPALG_A_ENABLED, cfg.enabled) ||
	    nla_put_u8(msg, SIPALG_A_MODE, cfg.mode) ||
	    nla_put_u8(msg, SIPALG_A_MALFORMED, cfg.malformed) ||
	    nla_put_u32(msg, SIPALG_A_LIMIT_RATE, lim.rate) ||
	    nla_put_u32(msg, SIPALG_A_LIMIT_BURST, lim.burst) ||
	    nla_put_u32(msg, SIPALG_A_LIMIT_CALLS, lim.calls) ||
	    nla_put_u8(msg, SIPALG_A_OVER_LIMIT,
		       drop ? SIPALG_OVER_LIMIT_DROP : SIPALG_OVER_LIMIT_PASS)) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return 0;
}

static int iface_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct sipalg_iface *iface;
	struct sk_buff *msg;
	int err;

	err = need_ifindex(info);
	if (err)
		return err;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	rtnl_lock();
	iface = sipalg_iface_find(sipalg_pernet(net), ifindex_of(info));
	if (!iface) {
		not_configured(info);
		err = -ENOENT;
	} else {
		err = fill_iface(msg, net, iface, info->snd_portid,
				 info->snd_seq, 0);
	}
	rtnl_unlock();
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* cb->args[0]: hash bucket, cb->args[1]: entries of it already sent. */
static int iface_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	struct sipalg_net *sn = sipalg_pernet(net);
	unsigned long b = cb->args[0], skip = cb->args[1], i;
	struct sipalg_iface *iface;
	int err = 0;

	rtnl_lock();
	for (; b < ARRAY_SIZE(sn->ifaces); b++, skip = 0) {
		i = 0;
		hlist_for_each_entry_rcu(iface, &sn->ifaces[b], node,
					 lockdep_rtnl_is_held()) {
			if (i++ < skip)
				continue;
			err = fill_iface(skb, net, iface,
					 NETLINK_CB(cb->skb).portid,
					 cb->nlh->nlmsg_seq, NLM_F_MULTI);
			if (err) {
				skip = i - 1;
				goto out;
			}
		}
	}
out:
	rtnl_unlock();
	cb->args[0] = b;
	cb->args[1] = skip;
	/* A full message ends this part of the dump; another follows. */
	return err ? skb->len : 0;
}

/*
 * The counter attributes are enum sipalg_stat, in the order of enum
 * sipalg_counter; this proves it, and fails the build when either changes
 * alone (a new reason in the core needs its uapi counter).
 */
static int stat_attr(unsigned int ctr)
{
#define SAME(ctr, attr) BUILD_BUG_ON(SIPALG_STAT_MESSAGES_SEEN + (ctr) != (attr))
#define MALFORMED(reason, attr) SAME(SIPALG_CTR_MALFORMED + (reason) - 1, attr)
	SAME(SIPALG_CTR_SEEN, SIPALG_STAT_MESSAGES_SEEN);
	SAME(SIPALG_CTR_PARSED, SIPALG_STAT_MESSAGES_PARSED);
	SAME(SIPALG_CTR_REWRITTEN, SIPALG_STAT_MESSAGES_REWRITTEN);
	SAME(SIPALG_CTR_DROPPED, SIPALG_STAT_MESSAGES_DROPPED);
	SAME(SIPALG_CTR_UNCHANGED_NO_NAT, SIPALG_STAT_UNCHANGED_NOT_TRANSLATED);
	SAME(SIPALG_CTR_UNCHANGED_PINHOLE_MODE,
	     SIPALG_STAT_UNCHANGED_PINHOLE_MODE);
	SAME(SIPALG_CTR_UNCHANGED_NOTHING,
	     SIPALG_STAT_UNCHANGED_NOTHING_TO_REWRITE);
	SAME(SIPALG_CTR_UNCHANGED_SPANS_SEGMENTS,
	     SIPALG_STAT_UNCHANGED_SPANS_SEGMENTS);
	SAME(SIPALG_CTR_UNCHANGED_MANGLE_FAILED,
	     SIPALG_STAT_UNCHANGED_MANGLE_FAILED);
	SAME(SIPALG_CTR_EXPECT_CREATED, SIPALG_STAT_EXPECTATIONS_CREATED);
	SAME(SIPALG_CTR_EXPECT_REMOVED, SIPALG_STAT_EXPECTATIONS_REMOVED);
	SAME(SIPALG_CTR_EXPECT_FAILED, SIPALG_STAT_EXPECTATIONS_FAILED);
	SAME(SIPALG_CTR_EXPECT_RENEWED, SIPALG_STAT_EXPECTATIONS_RENEWED);
	SAME(SIPALG_CTR_REG_TRACKED, SIPALG_STAT_REGISTRATIONS_TRACKED);
	SAME(SIPALG_CTR_REG_RELEASED, SIPALG_STAT_REGISTRATIONS_RELEASED);
	SAME(SIPALG_CTR_EXPECT_REFUSED_DESTINATION,
	     SIPALG_STAT_EXPECTATIONS_REFUSED_DESTINATION);
	SAME(SIPALG_CTR_UNCHANGED_AGGREGATED, SIPALG_STAT_UNCHANGED_AGGREGATED);
	SAME(SIPALG_CTR_EXPECT_REFUSED_NETNS_CAP,
	     SIPALG_STAT_EXPECTATIONS_REFUSED_NETNS_CAP);
	SAME(SIPALG_CTR_LIMITED_RATE, SIPALG_STAT_LIMITED_RATE);
	SAME(SIPALG_CTR_LIMITED_CALLS, SIPALG_STAT_LIMITED_CALLS);
	SAME(SIPALG_CTR_LIMIT_UNTRACKED, SIPALG_STAT_LIMIT_UNTRACKED);
	SAME(SIPALG_CTR_MALFORMED, SIPALG_STAT_MALFORMED_BAD_START_LINE);
	MALFORMED(SIP_R_BAD_START_LINE, SIPALG_STAT_MALFORMED_BAD_START_LINE);
	MALFORMED(SIP_R_BAD_HEADER, SIPALG_STAT_MALFORMED_BAD_HEADER);
	MALFORMED(SIP_R_BAD_LINE_END, SIPALG_STAT_MALFORMED_BAD_LINE_END);
	MALFORMED(SIP_R_BAD_VIA, SIPALG_STAT_MALFORMED_BAD_VIA);
	MALFORMED(SIP_R_BAD_CONTACT, SIPALG_STAT_MALFORMED_BAD_CONTACT);
	MALFORMED(SIP_R_BAD_CONTENT_LENGTH,
		  SIPALG_STAT_MALFORMED_BAD_CONTENT_LENGTH);
	MALFORMED(SIP_R_NO_CONTENT_LENGTH,
		  SIPALG_STAT_MALFORMED_NO_CONTENT_LENGTH);
	MALFORMED(SIP_R_BODY_TRUNCATED, SIPALG_STAT_MALFORMED_BODY_TRUNCATED);
	MALFORMED(SIP_R_BAD_CSEQ, SIPALG_STAT_MALFORMED_BAD_CSEQ);
	MALFORMED(SIP_R_BAD_CALL_ID, SIPALG_STAT_MALFORMED_BAD_CALL_ID);
	MALFORMED(SIP_R_BAD_EXPIRES, SIPALG_STAT_MALFORMED_BAD_EXPIRES);
	MALFORMED(SIP_R_BAD_CONTENT_TYPE,
		  SIPALG_STAT_MALFORMED_BAD_CONTENT_TYPE);
	MALFORMED(SIP_R_BAD_SDP, SIPALG_STAT_MALFORMED_BAD_SDP);
	MALFORMED(SIP_R_TOO_LONG, SIPALG_STAT_MALFORMED_TOO_LONG);
	MALFORMED(SIP_R_TOO_MANY_HEADERS,
		  SIPALG_STAT_MALFORMED_TOO_MANY_HEADERS);
	MALFORMED(SIP_R_TOO_MANY_VALUES, SIPALG_STAT_MALFORMED_TOO_MANY_VALUES);
	MALFORMED(SIP_R_INCOMPLETE, SIPALG_STAT_MALFORMED_INCOMPLETE);
	MALFORMED(SIP_R_MISSING_HEADER, SIPALG_STAT_MALFORMED_MISSING_HEADER);
	MALFORMED(SIP_R_BAD_MULTIPART, SIPALG_STAT_MALFORMED_BAD_MULTIPART);
	MALFORMED(SIP_R_KEEPALIVE, SIPALG_STAT_MALFORMED_KEEPALIVE);
	BUILD_BUG_ON(SIPALG_STAT_MESSAGES_SEEN + SIPALG_CTR_MAX !=
		     __SIPALG_STAT_MAX);
#undef MALFORMED
#undef SAME
	return SIPALG_STAT_MESSAGES_SEEN + ctr;
}

static int put_stats(struct sk_buff *msg, const struct sipalg_counters *c)
{
	struct nlattr *nest = nla_nest_start(msg, SIPALG_A_STATS);
	unsigned int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < SIPALG_CTR_MAX; i++)
		if (nla_put_u64_64bit(msg, stat_attr(i),
				      sipalg_counters_read(c, i),
				      SIPALG_STAT_PAD))
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int stats_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct sipalg_net *sn = sipalg_pernet(net);
	const struct sipalg_counters *c = &sn->ctrs;
	struct sipalg_iface *iface = NULL;
	struct sk_buff *msg;
	void *hdr;
	int err = refuse_repeated(info);

	if (err)
		return err;
	err = -EMSGSIZE;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	rtnl_lock();
	if (info->attrs[SIPALG_A_IFINDEX]) {
		iface = sipalg_iface_find(sn, ifindex_of(info));
		if (!iface) {
			not_configured(info);
			err = -ENOENT;
			goto out;
		}
		c = &iface->ctrs;
	}
	hdr = genlmsg_put_reply(msg, info, &sipalg_genl_family, 0,
				SIPALG_CMD_STATS_GET);
	if (!hdr || (iface && put_ifname(msg, net, iface->ifindex)) ||
	    put_stats(msg, c))
		goto out;
	genlmsg_end(msg, hdr);
	err = 0;
out:
	rtnl_unlock();
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int stats_reset_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sipalg_net *sn = sipalg_pernet(genl_info_net(info));
	struct sipalg_iface *iface;
	unsigned int b;
	int err = refuse_repeated(info);

	if (err)
		return err;
	rtnl_lock();
	if (info->attrs[SIPALG_A_IFINDEX]) {
		iface = sipalg_iface_find(sn, ifindex_of(info));
		if (iface) {
			sipalg_counters_reset(&iface->ctrs);
		} else {
			not_configured(info);
			err = -ENOENT;
		}
	} else {
		sipalg_counters_reset(&sn->ctrs);
		for (b = 0; b < ARRAY_SIZE(sn->ifaces); b++)
			hlist_for_each_entry_rcu(iface, &sn->ifaces[b], node,
						 lockdep_rtnl_is_held())
				sipalg_counters_reset(&iface->ctrs);
	}
	rtnl_unlock();
	return err;
}

struct calls_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

/* Under nf_conntrack_expect_lock: no allocation. */
static int fill_call(const struct sipalg_call *c, void *arg)
{
	struct calls_dump *d = arg;
	unsigned int i;
	void *hdr;

	hdr = genlmsg_put(d->skb, NETLINK_CB(d->cb->skb).portid,
			  d->cb->nlh->nlmsg_seq, &sipalg_genl_family,
			  NLM_F_MULTI, SIPALG_CMD_CALLS_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(d->skb, SIPALG_A_CALL_FLOW, c->flow) ||
	    nla_put_u32(d->skb, SIPALG_A_CALL_HASH, c->call))
		goto full;
	for (i = 0; i < c->n; i++)
		if (nla_put_u32(d->skb, SIPALG_A_CALL_PINHOLE, c->pinhole[i]))
			goto full;
	genlmsg_end(d->skb, hdr);
	return 0;
full:
	genlmsg_cancel(d->skb, hdr);
	return -EMSGSIZE;
}

/* cb->args[0]: the dialog table's bucket, cb->args[1]: calls of it sent. */
static int calls_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct calls_dump d = { .skb = skb, .cb = cb };
	unsigned long bucket = cb->args[0], skip = cb->args[1];
	int err;

	err = sipalg_expect_calls(sock_net(skb->sk), &bucket, &skip,
				  fill_call, &d);
	cb->args[0] = bucket;
	cb->args[1] = skip;
	if (err == -EMSGSIZE)
		return skb->len;	/* full: another part follows */
	return err;
}

static const struct genl_ops sipalg_genl_ops[] = {
	{
		.cmd		= SIPALG_CMD_IFACE_SET,
		.doit		= iface_set_doit,
		.policy		= set_policy,
		.maxattr	= SIPALG_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= SIPALG_CMD_IFACE_DEL,
		.doit		= iface_del_doit,
		.policy		= del_policy,
		.maxattr	= SIPALG_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= SIPALG_CMD_IFACE_GET,
		.doit		= iface_get_doit,
		.dumpit		= iface_get_dumpit,
		.policy		= ifindex_policy,
		.maxattr	= SIPALG_A_MAX,
	},
	{
		.cmd		= SIPALG_CMD_STATS_GET,
		.doit		= stats_get_doit,
		.policy		= ifindex_policy,
		.maxattr	= SIPALG_A_MAX,
	},
	{
		.cmd		= SIPALG_CMD_STATS_RESET,
		.doit		= stats_reset_doit,
		.policy		= ifindex_policy,
		.maxattr	= SIPALG_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= SIPALG_CMD_CALLS_GET,
		.dumpit		= calls_get_dumpit,
		.policy		= ifindex_policy,
		.maxattr	= SIPALG_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family sipalg_genl_family __ro_after_init = {
	.name		= SIPALG_GENL_NAME,
	.version	= SIPALG_GENL_VERSION,
	.maxattr	= SIPALG_A_MAX,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.ops		= sipalg_genl_ops,
	.n_ops		= ARRAY_SIZE(sipalg_genl_ops),
};

int sipalg_genl_register(void)
{
	BUILD_BUG_ON((int)SIPALG_EXPECT_CLASS_SIGNALLING !=
		     (int)SIPALG_EXPECT_SIGNALLING);
	BUILD_BUG_ON((int)SIPALG_EXPECT_CLASS_MEDIA != (int)SIPALG_EXPECT_MEDIA);
	return genl_register_family(&sipalg_genl_family);
}

void sipalg_genl_unregister(void)
{
	genl_unregister_family(&sipalg_genl_family);
}
