// SPDX-License-Identifier: GPL-2.0
/*
 * State blob lists (see state.h).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

int migd_state_put_owned(struct migd_state *s, const struct kvmmig_stream_state_desc *desc,
			 void *data, uint64_t len)
{
	struct migd_state_blob *b = NULL;

	for (unsigned int i = 0; i < s->count; i++) {
		struct migd_state_blob *o = &s->blobs[i];

		if (o->desc.kind == desc->kind && o->desc.instance == desc->instance &&
		    !strcmp(o->desc.name, desc->name)) {
			b = o;
			s->bytes -= b->len;
			free(b->data);
			break;
		}
	}
	if (!b) {
		if (s->count == s->cap) {
			unsigned int cap = s->cap ? s->cap * 2 : 16;
			struct migd_state_blob *n = realloc(s->blobs, cap * sizeof(*n));

			if (!n) {
				free(data);
				return -ENOMEM;
			}
			s->blobs = n;
			s->cap = cap;
		}
		b = &s->blobs[s->count++];
	}
	b->desc = *desc;
	b->data = data;
	b->len = len;
	s->bytes += len;
	return 0;
}

int migd_state_put(struct migd_state *s, const struct kvmmig_stream_state_desc *desc,
		   const void *data, uint64_t len)
{
	void *copy = malloc(len ? len : 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	return migd_state_put_owned(s, desc, copy, len);
}

void migd_state_free(struct migd_state *s)
{
	for (unsigned int i = 0; i < s->count; i++)
		free(s->blobs[i].data);
	free(s->blobs);
	memset(s, 0, sizeof(*s));
}

const char *migd_state_kind_name(uint32_t kind, char *buf, size_t len)
{
	switch (kind) {
	case KVMMIG_STATE_VCPU:
		return "vcpu";
	case KVMMIG_STATE_DEVICE:
		return "device";
	case KVMMIG_STATE_NESTED:
		return "nested";
	}
	snprintf(buf, len, "kind %u", kind);
	return buf;
}
