/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences, in one place.  Features that stable kernels
 * backport are detected by Kbuild from the headers (see Kbuild) rather than
 * keyed on LINUX_VERSION_CODE, which does not move with a backport.
 */
#ifndef SIPALG_COMPAT_H
#define SIPALG_COMPAT_H

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

#endif /* SIPALG_COMPAT_H */
