/*
 * numrepr.h - numbers written as Python's repr() writes them: ints of any
 * size in decimal, floats as the shortest string that reads back as the
 * same double. Pure functions over values already read; they never read
 * the target and never allocate.
 */
#ifndef FT_NUMREPR_H
#define FT_NUMREPR_H

#include <stddef.h>
#include <stdint.h>

/* The int whose magnitude is digits[0..n) (least significant first, `shift`
 * bits each, shift <= 31) in decimal, '-' first when negative and not 0.
 * Returns the length written (NUL added), or (size_t)-1 if out is too
 * small (out then holds ""). */
size_t ft_long_decimal(const uint32_t *digits, size_t n, unsigned shift, int negative, char *out,
                       size_t outsize);

/* repr(float): 'nan', 'inf', '-0.0', '0.1', '1e+16', '1e-05',
 * '1.7976931348623157e+308'. out holds at least FT_FLOAT_REPR_MAX bytes. */
#define FT_FLOAT_REPR_MAX 32
void ft_float_repr(double v, char *out);

#endif
