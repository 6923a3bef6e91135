"""The stub of a Java program that MBXP's Main is compiled against in the judge's JVM.

Same top-level class names and static method signatures as the program (read from javac's
model by the compile server), each body forwarding the call to the program's JVM
(FeedloopJudge.call). Only programs whose called methods take and return plain values can be
judged that way; for the others stub() says why not and the run keeps the in-process path.
"""
import re

JUDGE_CLASS = "FeedloopJudge"
# Types a value of which FeedloopValues sends by content (type arguments likewise).
_PLAIN = {
    "boolean", "byte", "char", "short", "int", "long", "float", "double", "void",
    "java.lang.Object", "java.lang.Integer", "java.lang.Long", "java.lang.Double", "java.lang.Float",
    "java.lang.Boolean", "java.lang.Character", "java.lang.Short", "java.lang.Byte", "java.lang.String",
    "java.lang.Number", "java.lang.CharSequence", "java.lang.Comparable", "java.math.BigInteger", "java.math.BigDecimal",
    "java.util.List", "java.util.ArrayList", "java.util.LinkedList", "java.util.Collection", "java.util.Set",
    "java.util.HashSet", "java.util.LinkedHashSet", "java.util.TreeSet", "java.util.Map", "java.util.HashMap",
    "java.util.LinkedHashMap", "java.util.TreeMap",
}
_BOXED = {"boolean": "Boolean", "byte": "Byte", "char": "Character", "short": "Short", "int": "Integer",
          "long": "Long", "float": "Float", "double": "Double"}
_TOKEN = re.compile(r"\s*([A-Za-z_$][\w$.]*|\[\]|[<>,?&]|\.\.\.)")
# A class the program declares with the tests' own name (Main) makes MBXP's single file fail to
# compile: such programs keep the in-process path, which reports exactly that. Nor may a class
# of the program take the name of one of the sandbox's own (FeedloopJudge, ...).
_DECLARES_MAIN = re.compile(r"\b(class|interface|enum|record)\s+(Main|Feedloop\w*)\b")


# MBXP's tests resolve names (List, Arrays) through the imports the program's file starts with;
# the stub's file gets the program's imports of JDK packages (an import runs no code).
_IMPORT = re.compile(r"^[ \t]*import[ \t]+((?:java|javax)\.[\w.]+(?:\.\*)?)[ \t]*;", re.M)


class NotJudgeable(Exception):
    pass


def _plain_type(text):
    """True when every name in the type is a plain type (no type variables, no program classes)."""
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            return False
        token = m.group(1)
        pos = m.end()
        if token[0].isalpha() or token[0] in "_$":
            if token not in _PLAIN and token not in ("extends", "super"):
                return False
    return True


def erasure(text):
    """The type without its type arguments, as Class.getCanonicalName() writes it."""
    out, depth = [], 0
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out).replace(" ", "")


def stub(program, methods):
    """The Java source of the program's stub. Raises NotJudgeable with the reason."""
    if _DECLARES_MAIN.search(program):
        raise NotJudgeable("the program declares a class named Main or Feedloop...")
    classes = {}
    for m in methods:
        cls = m.get("class")
        if not isinstance(cls, str) or "." in cls or not m.get("static") or m.get("private"):
            continue  # nested classes and instance methods are not stubbed: tests using them do not compile
        if m.get("shadowsJdk") is not False:
            # A program's own Arrays (or Math, Integer...) is not stubbed: the tests build their
            # values, the expected ones included, with the JDK's, never with the program's.
            continue
        types = [m.get("returns")] + list(m.get("params") or [])
        if not all(isinstance(t, str) and _plain_type(t) for t in types):
            continue  # not stubbed: tests that call it do not compile against the stub
        classes.setdefault(cls, []).append(m)
    if not classes:
        raise NotJudgeable("the program declares no static method of plain values")
    lines = ["import %s;" % name for name in dict.fromkeys(_IMPORT.findall(program))]
    for cls, members in classes.items():
        lines.append("class %s {" % cls)
        for m in members:
            params = list(m["params"])
            decl = ["%s a%d" % (t, i) for i, t in enumerate(params)]
            if m.get("varargs") and decl:
                decl[-1] = "%s... a%d" % (params[-1][:-2], len(params) - 1)
            erased = ", ".join('"%s"' % erasure(t) for t in params)
            args = ", ".join("a%d" % i for i in range(len(params)))
            forward = "%s.call(\"%s\", \"%s\", new String[] {%s}, new Object[] {%s})" % (JUDGE_CLASS, cls, m["name"], erased, args)
            returns = m["returns"]
            if returns == "void":
                body = "%s;" % forward
            else:
                body = "return (%s) %s;" % (_BOXED.get(returns, returns), forward)
            lines.append('    @SuppressWarnings("unchecked") static %s %s(%s) { %s }' % (returns, m["name"], ", ".join(decl), body))
        lines.append("}")
    return "\n".join(lines) + "\n"
