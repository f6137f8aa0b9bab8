/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences, in one place.  Features that stable kernels
 * backport are detected by Kbuild from the headers (see Kbuild) rather than
 * keyed on LINUX_VERSION_CODE, which does not move with a backport.
 */
#ifndef SIPALG_COMPAT_H
#define SIPALG_COMPAT_H

#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_expect.h>

/*
 * Which helper a flow created from an expectation gets: newer kernels (and
 * 6.1.y stable since the 2025 fix) read exp->assign_helper, older ones
 * exp->helper.
 */
static inline void sipalg_exp_assign_helper(struct nf_conntrack_expect *exp,
					    struct nf_conntrack_helper *helper)
{
#ifdef SIPALG_HAVE_EXP_ASSIGN_HELPER
	rcu_assign_pointer(exp->assign_helper, helper);
#else
	rcu_assign_pointer(exp->helper, helper);
#endif
}

/*
 * Does @exp point at @helper?  Newer kernels (and 6.1.y stable) record the
 * helper of the flow that made it (exp->helper) and the one it assigns
 * (exp->assign_helper); older ones only the latter, in exp->helper.
 */
static inline bool sipalg_exp_uses_helper(const struct nf_conntrack_expect *exp,
					  const struct nf_conntrack_helper *helper)
{
#ifdef SIPALG_HAVE_EXP_ASSIGN_HELPER
	return rcu_access_pointer(exp->helper) == helper ||
	       rcu_access_pointer(exp->assign_helper) == helper;
#else
	return rcu_access_pointer(exp->helper) == helper;
#endif
}

/*
 * How an expectation expires: older kernels give each one a timer, which
 * unlinks it when it fires; newer ones (and 6.1.y stable since the 2025
 * backport) keep a jiffies32 deadline in exp->timeout and a garbage
 * collector unlinks it after it passed or was marked NF_CT_EXPECT_DEAD by
 * nf_ct_unexpect_related().  Both are read under nf_conntrack_expect_lock.
 */
static inline bool sipalg_exp_expired(const struct nf_conntrack_expect *exp)
{
#ifdef SIPALG_HAVE_EXP_DEADLINE
	return nf_ct_exp_is_expired(exp);
#else
	return !timer_pending(&exp->timeout);
#endif
}

/*
 * Unlink @exp from the expectation tables, under nf_conntrack_expect_lock.
 * Returns false, leaving it alone, when it had already expired: its timer
 * (older kernels) or the collector unlinks it.
 */
static inline bool sipalg_exp_unlink(struct nf_conntrack_expect *exp)
{
#ifdef SIPALG_HAVE_EXP_DEADLINE
	if (nf_ct_exp_is_expired(exp))
		return false;
	nf_ct_unlink_expect(exp);	/* drops the tables' only reference */
	return true;
#else
	if (!del_timer(&exp->timeout))
		return false;
	nf_ct_unlink_expect(exp);
	nf_ct_expect_put(exp);		/* the timer's reference */
	return true;
#endif
}

/* Expire @exp @secs from now; false (nothing done) if it already expired. */
static inline bool sipalg_exp_renew(struct nf_conntrack_expect *exp,
				    unsigned int secs)
{
#ifdef SIPALG_HAVE_EXP_DEADLINE
	if (nf_ct_exp_is_expired(exp))
		return false;
	WRITE_ONCE(exp->timeout, nfct_time_stamp + secs * HZ);
	return true;
#else
	return mod_timer_pending(&exp->timeout, jiffies + secs * HZ);
#endif
}

/*
 * Push @ct's timeout out to @extra_jiffies from now.  6.12 dropped the skb
 * argument of nf_ct_refresh() (it was only used for accounting, which a
 * plain refresh does not do).
 */
static inline void sipalg_ct_refresh(struct nf_conn *ct,
				     const struct sk_buff *skb,
				     u32 extra_jiffies)
{
#ifdef SIPALG_HAVE_REFRESH_NO_SKB
	nf_ct_refresh(ct, extra_jiffies);
#else
	nf_ct_refresh(ct, skb, extra_jiffies);
#endif
}

#endif /* SIPALG_COMPAT_H */
