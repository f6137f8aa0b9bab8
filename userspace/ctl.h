/* SPDX-License-Identifier: GPL-2.0 */
/* The subcommands that talk to the module: netlink (genl.c), conntrack. */
#ifndef SIPALG_CTL_H
#define SIPALG_CTL_H

#include <stdbool.h>
#include <stdio.h>

int cmd_enable(int argc, char **argv);
int cmd_disable(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_flows(int argc, char **argv);

struct sgenl;

int ctl_options(int argc, char **argv, void (*usage)(FILE *), bool *json,
		const char *flag, bool *flag_set);
int ctl_open_iface_arg(int argc, char **argv, void (*usage)(FILE *),
		       struct sgenl *g, const char **ifname,
		       unsigned int *ifindex);

#endif
