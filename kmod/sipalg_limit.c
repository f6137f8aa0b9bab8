// SPDX-License-Identifier: GPL-2.0
/*
 * Limits against abuse, per source address in a network namespace: a
 * token bucket on the messages that ask for pinholes (an SDP offer or
 * answer, a 2xx to a REGISTER), and a cap on the calls (the per-call
 * records of sipalg_expect.c) a source's offers opened.  The limits come
 * with the packet's policy (sipalg_policy.c); this file keeps what they
 * are measured against: a record per source address.
 *
 * The source of a message is the host its pinholes lead to: the sender
 * of an SDP offer or answer (sipalg_expect.c opens pinholes only to the
 * SDP's sender), the client of a registration (the receiver of the 2xx).
 *
 * The table of a namespace is bounded by max_netns_sources.  A source that
 * finds it full (or whose record cannot be allocated) is not limited: its
 * message is counted in limit-untracked and handled as within the limits.
 * Refusing it instead would let one host that fills the table (spoofed
 * addresses on the WAN) shut every other host's calls out; what it can
 * open meanwhile is still bounded by the pinhole and call caps.
 *
 * A record is freed once it remembers nothing a new one would not: its
 * bucket full again and no call of its open.  A periodic sweep (gc) frees
 * those; the records of a namespace go with it, all of them with the
 * module.
 *
 * The rate is checked when a message is admitted (sipalg_limit_admit()),
 * by the helper before it asks for pinholes.  The calls cap is checked
 * where a call is made: sipalg_expect.c asks sipalg_limit_call_add() only
 * when it is about to make a call's record, so that a retransmission or
 * an answer of a call that has one is never refused, and no message is
 * looked up twice.  The check and the count are one step under the
 * table's lock: new calls on several CPUs at once cannot take a source
 * past its cap.
 *
 * Locking: a namespace's table and its records are read and written under
 * that table's spinlock (bottom halves off).  sipalg_expect.c counts a
 * call in (or refuses it) and out under nf_conntrack_expect_lock, so the
 * order is that lock first, then a table's, never the reverse.  Records
 * are freed after an RCU grace period: the packet path keeps the record it
 * was admitted with (under the RCU read lock sipalg_help() holds) until
 * the call's record takes it (sipalg_limit_call_add()), and a record the
 * sweep unlinked in between is marked dead so that it is not counted in.
 */
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "sipalg_alg.h"

static unsigned int max_netns_sources = 4096;
module_param(max_netns_sources, uint, 0644);
MODULE_PARM_DESC(max_netns_sources,
		 "source addresses whose rate and calls one network namespace keeps; a source beyond it is not limited, counted in limit-untracked (default 4096)");

#define LIMIT_HASH_BITS		8
#define LIMIT_GC_INTERVAL	(10 * HZ)
#define LIMIT_LOG_INTERVAL	(5 * HZ)

struct limit_net;

struct sipalg_limit_src {
	struct hlist_node node;
	struct rcu_head rcu;
	struct limit_net *ln;		/* its table */
	union nf_inet_addr addr;
	u8 family;
	bool dead;			/* unlinked: counts no call */
	unsigned int calls;		/* call records that name it */
	u64 credit;			/* tokens, in 1/HZ of a token */
	unsigned long stamp;		/* jiffies: credit last refilled */
	unsigned long full_at;		/* jiffies: credit back at the burst */
	unsigned long logged;		/* jiffies: last log line */
};

struct limit_net {
	spinlock_t lock;
	unsigned int count;
	struct hlist_head table[1 << LIMIT_HASH_BITS];
};

static unsigned int limit_net_id;
static struct kmem_cache *src_cache;

static void limit_gc_work(struct work_struct *work);
static DECLARE_DELAYED_WORK(limit_gc, limit_gc_work);

static struct hlist_head *src_bucket(struct limit_net *ln,
				     const union nf_inet_addr *addr)
{
	return &ln->table[jhash2(addr->all, ARRAY_SIZE(addr->all), 0) &
			  ((1 << LIMIT_HASH_BITS) - 1)];
}

static void src_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(src_cache, container_of(head, struct sipalg_limit_src,
						rcu));
}

/* Under ln->lock. */
static void src_free(struct sipalg_limit_src *src)
{
	hlist_del_rcu(&src->node);
	src->dead = true;
	src->ln->count--;
	call_rcu(&src->rcu, src_free_rcu);
}

/* @addr's record, made if there is none and the table has room.  Under ln->lock. */
static struct sipalg_limit_src *src_get(struct limit_net *ln,
					const union nf_inet_addr *addr,
					u8 family)
{
	struct hlist_head *head = src_bucket(ln, addr);
	struct sipalg_limit_src *src;

	hlist_for_each_entry(src, head, node)
		if (src->family == family && nf_inet_addr_cmp(&src->addr, addr))
			return src;
	if (ln->count >= READ_ONCE(max_netns_sources))
		return NULL;
	src = kmem_cache_zalloc(src_cache, GFP_ATOMIC);
	if (!src)
		return NULL;
	src->ln = ln;
	src->addr = *addr;
	src->family = family;
	src->credit = U64_MAX;		/* a full bucket, whatever the burst */
	src->stamp = jiffies;
	src->full_at = jiffies;
	src->logged = jiffies - LIMIT_LOG_INTERVAL;
	ln->count++;
	hlist_add_head_rcu(&src->node, head);
	return src;
}

/*
 * Take a token from @src's bucket of @lim->burst tokens, refilled at
 * @lim->rate a second (both at most SIPALG_LIMIT_MAX, so the products fit).
 * False when it is empty.  Under the table's lock.
 */
static bool take_token(struct sipalg_limit_src *src,
		       const struct sipalg_limits *lim)
{
	u64 cap = (u64)max(lim->burst, 1U) * HZ;
	unsigned long now = jiffies;
	u64 elapsed = min_t(u64, now - src->stamp, (u64)SIPALG_LIMIT_MAX * HZ);

	src->stamp = now;
	if (src->credit < cap)
		src->credit = min(cap, src->credit + elapsed * lim->rate);
	else
		src->credit = cap;
	if (src->credit < HZ)
		return false;
	src->credit -= HZ;
	src->full_at = now + (unsigned long)DIV_ROUND_UP_ULL(cap - src->credit,
							     lim->rate);
	return true;
}

static void log_limited(struct sipalg_limit_src *src, const char *what)
{
	/* One line per source and interval, and few over all sources. */
	if (time_before(jiffies, src->logged + LIMIT_LOG_INTERVAL) ||
	    !net_ratelimit())
		return;
	src->logged = jiffies;
	if (src->family == NFPROTO_IPV4)
		pr_info("sipalg: over the %s limit: %pI4 gets no new pinholes\n",
			what, &src->addr.ip);
	else
		pr_info("sipalg: over the %s limit: %pI6c gets no new pinholes\n",
			what, &src->addr.in6);
}

/*
 * Is side @who of @ct (the host the pinholes lead to) within its rate, for
 * a message that asks for pinholes?  On success *@srcp is its record (NULL
 * when none is kept), valid under the RCU read lock, for
 * sipalg_limit_call_add().  A refusal is counted and logged here.
 */
bool sipalg_limit_admit(const struct nf_conn *ct,
			const struct sipalg_policy *pol,
			enum ip_conntrack_dir who,
			struct sipalg_limit_src **srcp)
{
	struct limit_net *ln = net_generic(nf_ct_net(ct), limit_net_id);
	const struct sipalg_limits *lim = &pol->lim;
	struct sipalg_limit_src *src;
	bool ok;

	*srcp = NULL;
	if (!lim->rate && !lim->calls)
		return true;
	spin_lock_bh(&ln->lock);
	src = src_get(ln, &ct->tuplehash[who].tuple.src.u3, nf_ct_l3num(ct));
	if (!src) {
		spin_unlock_bh(&ln->lock);
		sipalg_policy_count(pol, SIPALG_CTR_LIMIT_UNTRACKED);
		return true;
	}
	ok = !lim->rate || take_token(src, lim);
	if (!ok)
		log_limited(src, "rate");
	spin_unlock_bh(&ln->lock);
	if (!ok) {
		sipalg_policy_count(pol, SIPALG_CTR_LIMITED_RATE);
		return false;
	}
	*srcp = src;
	return true;
}

/*
 * A new call's record is about to name *@srcp (NULL: no source is kept):
 * the call counts against the source's calls cap, @pol->lim.calls.  False
 * when the source is at its cap (counted in limited-calls, logged): the
 * call gets no record.  A source record the sweep unlinked since the
 * message was admitted counts nothing (*@srcp becomes NULL), like an
 * untracked source.  Under nf_conntrack_expect_lock and the RCU read lock.
 */
bool sipalg_limit_call_add(struct sipalg_limit_src **srcp,
			   const struct sipalg_policy *pol)
{
	struct sipalg_limit_src *src = *srcp;
	bool ok = true;

	if (!src)
		return true;
	spin_lock(&src->ln->lock);
	if (src->dead) {
		*srcp = NULL;
	} else if (pol->lim.calls && src->calls >= pol->lim.calls) {
		ok = false;
		log_limited(src, "calls");
	} else {
		src->calls++;
	}
	spin_unlock(&src->ln->lock);
	if (!ok)
		sipalg_policy_count(pol, SIPALG_CTR_LIMITED_CALLS);
	return ok;
}

/* The call record that named @src is freed.  Under nf_conntrack_expect_lock. */
void sipalg_limit_call_end(struct sipalg_limit_src *src)
{
	spin_lock(&src->ln->lock);
	src->calls--;
	spin_unlock(&src->ln->lock);
}

/* Free @ln's records, or only the idle ones. */
static void limit_sweep(struct limit_net *ln, bool idle_only)
{
	struct sipalg_limit_src *src;
	struct hlist_node *next;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ln->table); i++) {
		spin_lock_bh(&ln->lock);
		hlist_for_each_entry_safe(src, next, &ln->table[i], node)
			if (!idle_only ||
			    (!src->calls && time_after_eq(jiffies, src->full_at)))
				src_free(src);
		spin_unlock_bh(&ln->lock);
	}
}

static void limit_gc_work(struct work_struct *work)
{
	struct net *net;

	down_read(&net_rwsem);
	for_each_net(net)
		limit_sweep(net_generic(net, limit_net_id), true);
	up_read(&net_rwsem);
	queue_delayed_work(system_power_efficient_wq, &limit_gc,
			   LIMIT_GC_INTERVAL);
}

static int __net_init limit_net_init(struct net *net)
{
	struct limit_net *ln = net_generic(net, limit_net_id);
	unsigned int i;

	spin_lock_init(&ln->lock);
	for (i = 0; i < ARRAY_SIZE(ln->table); i++)
		INIT_HLIST_HEAD(&ln->table[i]);
	return 0;
}

/*
 * After sipalg_expect.c's exit for the namespace (registered after this
 * file, its exit runs first): no call record names a source any more.
 */
static void __net_exit limit_net_exit(struct net *net)
{
	limit_sweep(net_generic(net, limit_net_id), false);
}

static struct pernet_operations limit_net_ops = {
	.init = limit_net_init,
	.exit = limit_net_exit,
	.id = &limit_net_id,
	.size = sizeof(struct limit_net),
};

/* Before sipalg_expect_register(). */
int sipalg_limit_register(void)
{
	int ret;

	src_cache = KMEM_CACHE(sipalg_limit_src, 0);
	if (!src_cache)
		return -ENOMEM;
	ret = register_pernet_subsys(&limit_net_ops);
	if (ret) {
		kmem_cache_destroy(src_cache);
		return ret;
	}
	queue_delayed_work(system_power_efficient_wq, &limit_gc,
			   LIMIT_GC_INTERVAL);
	return 0;
}

/* After sipalg_expect_unregister(): no call record is left. */
void sipalg_limit_unregister(void)
{
	cancel_delayed_work_sync(&limit_gc);
	unregister_pernet_subsys(&limit_net_ops);
	rcu_barrier();		/* the call_rcu() of the records */
	kmem_cache_destroy(src_cache);
}
