/*
 * virtio.c - device initialisation (virtio 1.2, 3.1.1) and split
 * virtqueues (2.7), for any transport.  See virtio.h for the memory and
 * ordering assumptions.
 */
#include "virtio.h"

#include "../kernel/memmap.h"

#define compiler_barrier()	__asm__ volatile("" ::: "memory")
#define full_barrier()		__asm__ volatile("mfence" ::: "memory")

uint64_t
virtio_negotiate(struct virtio_dev *d, uint64_t want)
{
	uint64_t f;

	d->t->set_status(d, 0);			/* reset */
	d->t->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	d->t->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	f = d->t->features(d) & want;
	if (d->t->legacy) {
		d->t->set_features(d, f & 0xffffffffu);
		return f | 1ULL << VIRTIO_F_VERSION_1;	/* as if: not 0 */
	}
	if ((f & (1ULL << VIRTIO_F_VERSION_1)) == 0) {
		virtio_fail(d);
		return 0;
	}
	d->t->set_features(d, f);
	d->t->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	    VIRTIO_STATUS_FEATURES_OK);
	if ((d->t->status(d) & VIRTIO_STATUS_FEATURES_OK) == 0) {
		virtio_fail(d);
		return 0;
	}
	return f;
}

void
virtio_driver_ok(struct virtio_dev *d)
{
	d->t->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

void
virtio_fail(struct virtio_dev *d)
{
	d->t->set_status(d, d->t->status(d) | VIRTIO_STATUS_FAILED);
}

/* The handler of every virtio device's interrupt (kernel.h: it only
 * acknowledges and counts; rt_poll() asks the device what happened). */
static void
virtio_irq(void *arg)
{
	struct virtio_dev *d = arg;

	if (d->t->irq_ack == NULL || d->t->irq_ack(d))
		d->interrupts++;
}

int
virtio_irq_setup(struct virtio_dev *d)
{
	int r;

	if (d->t->irq_setup == NULL)
		return -RT_ENODEV;
	d->irq.fn = virtio_irq;
	d->irq.arg = d;
	if ((r = d->t->irq_setup(d)) == 0)
		d->irq_wired = 1;
	return r;
}

int
virtq_init(struct virtio_dev *d, struct virtq *q, unsigned index,
    unsigned max)
{
	unsigned size = d->t->queue_max(d, index);
	size_t avail_end;
	uintptr_t mem;

	if (size == 0)
		return -RT_ENODEV;
	if (max > VIRTQ_SIZE_MAX || d->t->fixed_queue_size)
		max = VIRTQ_SIZE_MAX;
	/* The largest power of 2 within both bounds: the ring indexes wrap
	 * at 2^16, which a power of 2 divides.  A size the device fixes
	 * must be one already, and fit. */
	if (d->t->fixed_queue_size && (size > max ||
	    (size & (size - 1)) != 0))
		return -RT_ENODEV;
	if (size > max)
		size = max;
	while ((size & (size - 1)) != 0)
		size &= size - 1;
	/* The legacy layout, which modern devices accept too: the
	 * available ring right after the descriptors, the used ring on the
	 * next page boundary; for up to 256 entries, three pages. */
	if ((mem = (uintptr_t)memory_pages_alloc(3)) == 0)
		return -RT_ENOMEM;
	avail_end = 16 * size + 6 + 2 * size;
	q->dev = d;
	q->index = (uint16_t)index;
	q->size = (uint16_t)size;
	q->desc = (volatile struct virtq_desc *)mem;
	q->avail = (volatile struct virtq_avail *)(mem + 16 * size);
	q->used = (volatile struct virtq_used *)(mem + ((avail_end +
	    RT_PAGE_SIZE - 1) & ~(RT_PAGE_SIZE - 1)));
	q->avail_idx = 0;
	q->used_seen = 0;
	/* Quiet until virtq_arm(): a polled device need never interrupt. */
	virtq_interrupts(q, 0);
	d->t->queue_enable(d, q);
	return 0;
}

void
virtq_interrupts(struct virtq *q, int on)
{
	q->avail->flags = on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
}

int
virtq_arm(struct virtq *q)
{
	virtq_interrupts(q, 1);
	full_barrier();			/* the flag, then the index */
	return virtq_has_used(q);
}

void
virtq_publish(struct virtq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	compiler_barrier();		/* the entry before the index */
	q->avail_idx++;
	q->avail->idx = q->avail_idx;
}

void
virtq_kick(struct virtq *q)
{
	full_barrier();			/* the index before the flag's read */
	if ((q->used->flags & VIRTQ_USED_F_NO_NOTIFY) == 0)
		q->dev->t->notify(q->dev, q);
}

int
virtq_has_used(const struct virtq *q)
{
	return q->used->idx != q->used_seen;
}

int
virtq_take_used(struct virtq *q, uint16_t *id, uint32_t *len)
{
	volatile struct virtq_used_elem *e;

	if (q->used->idx == q->used_seen)
		return 0;
	compiler_barrier();		/* the index before the entry */
	e = &q->used->ring[q->used_seen & (q->size - 1)];
	*id = (uint16_t)e->id;
	*len = e->len;
	q->used_seen++;
	return 1;
}
