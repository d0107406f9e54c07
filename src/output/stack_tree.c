/*
 * stack_tree.c - stacks merged from the root down into a tree (flame
 * graphs). A node's child is found through one hash index keyed by
 * (parent, function, line, thread), and appended after the parent's last
 * child, so building is linear in the frames of the distinct stacks however
 * many children a node has (exec-generated code gives one caller thousands).
 */
#include "profile_format.h"

#include "../util/grow.h"
#include "../util/hindex.h"

#include <stdlib.h>
#include <string.h>

struct node_key {
    uint32_t parent;
    struct ft_loc loc;
    uint32_t thread;
};

static uint64_t key_hash(const struct node_key *k)
{
    uint64_t h = ((uint64_t)k->parent << 32 | k->loc.func) * 0x9E3779B97F4A7C15ull;
    h ^= ((uint64_t)(uint32_t)k->loc.line << 32 | k->thread) * 0xC2B2AE3D27D4EB4Full;
    return h ^ (h >> 29);
}

static uint64_t node_hash(const void *ctx, uint32_t id)
{
    const struct ft_tree_node *n = &((const struct ft_tree *)ctx)->v[id];
    struct node_key k = {n->parent, n->loc, n->thread};
    return key_hash(&k);
}

static int node_same(const void *ctx, uint32_t id, const void *key)
{
    const struct ft_tree_node *n = &((const struct ft_tree *)ctx)->v[id];
    const struct node_key *k = key;
    return n->parent == k->parent && n->loc.func == k->loc.func && n->loc.line == k->loc.line &&
           n->thread == k->thread;
}

/* The child of parent for (loc, thread), added after its last child if new.
 * Node ids are the index's values: node 0, the root, is never a child. */
static uint32_t child(struct ft_tree *t, uint32_t parent, struct ft_loc loc, uint32_t thread)
{
    struct node_key k = {parent, loc, thread};
    ft_hindex_reserve(&t->index, t->n, node_hash, t);
    uint32_t *slot = ft_hindex_slot(&t->index, key_hash(&k), node_same, t, &k);
    if (*slot)
        return *slot;
    uint32_t id = (uint32_t)t->n;
    FT_GROW(t->v, t->cap, t->n + 1);
    t->v[t->n++] = (struct ft_tree_node){loc, thread, parent, 0, 0, 0, 0, 0};
    struct ft_tree_node *pn = &t->v[parent];
    if (pn->last_child)
        t->v[pn->last_child].next_sibling = id;
    else
        pn->first_child = id;
    pn->last_child = id;
    *slot = id;
    return id;
}

void ft_tree_build(struct ft_tree *t, const struct ft_profile *p, int per_thread,
                   struct ft_progress *pg)
{
    const struct ft_loc none = {UINT32_MAX, -1};
    memset(t, 0, sizeof *t);
    FT_GROW(t->v, t->cap, 1);
    t->v[t->n++] = (struct ft_tree_node){none, UINT32_MAX, UINT32_MAX, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < p->ncounts; i++) {
        const struct ft_count *c = &p->counts[i];
        const struct ft_loc *locs = ft_profile_locs(p, c->stack);
        uint32_t depth = p->stacks[c->stack].depth;
        uint32_t node = 0;
        t->v[0].total += c->count;
        if (per_thread) {
            node = child(t, 0, none, c->thread);
            t->v[node].total += c->count;
        }
        for (uint32_t d = depth; d-- > 0;) { /* outermost first */
            node = child(t, node, locs[d], UINT32_MAX);
            t->v[node].total += c->count;
        }
        t->v[node].self += c->count;
        ft_progress_step(pg, i, 2 * p->ncounts);
    }
}

void ft_tree_free(struct ft_tree *t)
{
    free(t->v);
    ft_hindex_free(&t->index);
    memset(t, 0, sizeof *t);
}
