/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control plane's kernel side, in layers that only call down: the
 * per-namespace state and counters (sipalg_net.c); the table of configured
 * interfaces and the netfilter hooks that assign the helper to the flows
 * of enabled interfaces (sipalg_iface.c); a flow's policy, resolved from
 * them (sipalg_policy.c); the generic netlink family on top
 * (sipalg_genl.c).  sipalg_main.c registers them bottom-up.
 *
 * Locking: every change to an interface table, and every reader outside
 * the packet path, holds RTNL (the netdevice notifier that removes a
 * deleted interface's entry runs under it too).  The packet path reads
 * the table under RCU; an entry's settings are one word, written with
 * WRITE_ONCE(), so a reader sees either the old or the new settings.
 */
#ifndef SIPALG_CTL_H
#define SIPALG_CTL_H

#include <linux/list.h>
#include <linux/netlink.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

#include "sipalg_alg.h"
#include "uapi/linux/sipalg_genl.h"

struct sipalg_stats {
	u64 ctr[SIPALG_CTR_MAX];
};

/* A set of counters: per-CPU, and their sums at the last reset. */
struct sipalg_counters {
	struct sipalg_stats __percpu *pcpu;
	u64 base[SIPALG_CTR_MAX];
};

int sipalg_counters_init(struct sipalg_counters *c);
void sipalg_counters_free(struct sipalg_counters *c);
u64 sipalg_counters_read(const struct sipalg_counters *c, unsigned int ctr);
void sipalg_counters_add(const struct sipalg_counters *c, unsigned int ctr,
			 unsigned int n);
void sipalg_counters_reset(struct sipalg_counters *c);

/* An interface's settings, read and written as one word. */
union sipalg_iface_cfg {
	struct {
		u8 enabled;
		u8 mode;	/* enum sipalg_mode */
		u8 malformed;	/* enum sipalg_malformed */
		u8 over_limit;	/* 0: the module's; else 1 + enum sipalg_over_limit */
	};
	u32 word;
};

/* A limit of an interface that follows the module parameter. */
#define SIPALG_LIMIT_INHERIT	U32_MAX

struct sipalg_iface {
	struct hlist_node node;
	struct rcu_head rcu;
	int ifindex;
	union sipalg_iface_cfg cfg;
	struct sipalg_limits lim;	/* each read with READ_ONCE() */
	struct sipalg_counters ctrs;
};

#define SIPALG_IFACE_HASH_BITS	6

struct sipalg_net {
	struct sipalg_counters ctrs;
	struct hlist_head ifaces[1 << SIPALG_IFACE_HASH_BITS];
	unsigned int n_ifaces;		/* RTNL */
	unsigned int n_enabled;		/* RTNL; read locklessly by the hooks */
	bool tracking;			/* nf_ct_netns_get() taken */
};

struct sipalg_net *sipalg_pernet(const struct net *net);

/* sipalg_iface.c */
struct sipalg_iface *sipalg_iface_find(struct sipalg_net *sn, int ifindex);
const struct sipalg_ct_data *sipalg_ct_assigner(const struct nf_conn *ct);
int sipalg_ct_ifindex(const struct nf_conn *ct);
int sipalg_iface_set(struct net *net, int ifindex,
		     const union sipalg_iface_cfg *set,
		     const union sipalg_iface_cfg *mask,
		     const struct sipalg_limits *lim,
		     struct netlink_ext_ack *extack);
int sipalg_iface_del(struct net *net, int ifindex);
void sipalg_iface_flush(struct net *net, int ifindex, unsigned int *flows,
			unsigned int *expectations);
int sipalg_track(struct net *net);
void sipalg_untrack(struct net *net);
int sipalg_iface_register(void);
void sipalg_iface_unregister(void);

/* sipalg_policy.c */
void sipalg_policy_limits(const struct sipalg_iface *iface,
			  struct sipalg_limits *lim, bool *drop);

/* sipalg_genl.c */
int sipalg_genl_register(void);
void sipalg_genl_unregister(void);

#endif /* SIPALG_CTL_H */
