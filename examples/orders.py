"""A short batch job for `make demo`'s trace: parses orders, prices them
(one is bad and raises), and reports. Runs in well under a second."""
import json

ORDERS = json.dumps([
    {"id": 1, "items": [["tea", 2], ["cake", 1]]},
    {"id": 2, "items": [["coffee", 1], ["unicorn", 1]]},
    {"id": 3, "items": [["cake", 3]]},
])
PRICES = {"tea": 3.5, "coffee": 4.0, "cake": 5.25}


class PriceError(Exception):
    pass


def price_of(name):
    try:
        return PRICES[name]
    except KeyError:
        raise PriceError("no price for %r" % name) from None


def line_items(order):
    for name, qty in order["items"]:
        yield price_of(name) * qty


def handle_order(order):
    try:
        return sum(line_items(order))
    except PriceError as err:
        print("order %d rejected: %s" % (order["id"], err))
        return 0.0


def main():
    total = sum(handle_order(o) for o in json.loads(ORDERS))
    print("total: %.2f" % total)


if __name__ == "__main__":
    main()
