/*
 * who.h - what lives at one address (command obj): see who.c.
 */
#ifndef HEAPINSPECT_WHO_H
#define HEAPINSPECT_WHO_H

#include <stdint.h>

#include "model.h"
#include "target.h"

/* Fill m->where for ADDR; call after every walker has run. */
void address_describe(const struct target *t, struct heap_model *m, uint64_t addr);

#endif
