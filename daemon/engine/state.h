/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMM's state blobs of one migration (vCPU registers, devices, nested
 * state), as the stream's STATE records carry them: a list in arrival
 * order where a later blob with the same kind, instance and name replaces
 * the earlier one, as the format says.
 */
#ifndef MIGD_STATE_H
#define MIGD_STATE_H

#include <stdint.h>

#include "stream/stream.h"

struct migd_state_blob {
	struct kvmmig_stream_state_desc desc;
	uint64_t len;
	uint8_t *data;
};

struct migd_state {
	struct migd_state_blob *blobs;
	unsigned int count;
	unsigned int cap;
	uint64_t bytes;		/* all blobs together */
};

/*
 * Copies @len bytes of @data into @s, replacing a blob of the same kind,
 * instance and name; 0 or -ENOMEM.
 */
int migd_state_put(struct migd_state *s, const struct kvmmig_stream_state_desc *desc,
		   const void *data, uint64_t len);
/* Takes @data (malloc()ed) instead of copying it; frees it on failure. */
int migd_state_put_owned(struct migd_state *s, const struct kvmmig_stream_state_desc *desc,
			 void *data, uint64_t len);
void migd_state_free(struct migd_state *s);

/* "vcpu", "device", "nested" or "kind N". */
const char *migd_state_kind_name(uint32_t kind, char *buf, size_t len);

#endif /* MIGD_STATE_H */
