/* SPDX-License-Identifier: GPL-2.0 */
#ifndef OSIP_GLUE_H
#define OSIP_GLUE_H
#include <stddef.h>
void osip_glue_init(void);
/* osip_message_init + osip_message_parse + osip_message_free; 0 on success */
int osip_glue_parse(const char *buf, size_t len);
#endif
