/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `sipalgctl probe` (is an ALG on my path breaking SIP?) and its far end,
 * `sipalgctl reflect`.  Neither needs the module.
 */
#ifndef SIPALG_PROBE_H
#define SIPALG_PROBE_H

#include <stdbool.h>

/* probe's verdicts, beside sipalgctl's 0 (no ALG), 1 (could not test) and 2 */
#define EXIT_ALG_HARMLESS	5
#define EXIT_ALG_HARMFUL	6

int cmd_probe(int argc, char **argv);
int cmd_reflect(int argc, char **argv);

/* --local: is this machine itself rewriting SIP?  (probe_local.c) */
int probe_local(bool json);

#endif
