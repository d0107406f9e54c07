"""Non-ASCII names for frametap's tests: a module, class, method and nested
function whose names and file name are not ASCII."""
import time


class Ωmega:
    def метод(self, ev):
        def внутренняя_функция():
            ev.set()
            time.sleep(3600)  # MARK: unicode_park
        внутренняя_функция()  # MARK: unicode_call
