"""The names an escape-time image's parameters choose from (formulas, orbit traps, colourings): the recipe keys and
the command line accept these. A leaf module without numba, so that ``fractalgen render --help`` lists the traps
at once; :mod:`.escape` maps each name to the code of its kernel branch."""

FORMULAS = ("power", "burning-ship", "tricorn")
TRAPS = ("point", "cross", "line", "circle", "square", "rhombus")
STATS = ("min", "mean")
COLORINGS = ("trap", "smooth", "trap-smooth", "smooth-trap")
TRANSFERS = ("identity", "sqrt", "log")
