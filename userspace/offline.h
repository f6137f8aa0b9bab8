/* SPDX-License-Identifier: GPL-2.0 */
/* Offline subcommands: the module's core run on a file, no kernel needed. */
#ifndef SIPALG_OFFLINE_H
#define SIPALG_OFFLINE_H

int cmd_parse(int argc, char **argv);
int cmd_rewrite(int argc, char **argv);

#endif
