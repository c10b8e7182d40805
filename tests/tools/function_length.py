#!/usr/bin/env python3
"""Fails when a C++ function definition is longer than the limit (STYLE.md: functions that fit on a screen).

usage: function_length.py [--max N] PATH...   (a PATH that is a folder means its .cpp/.hpp files, recursively)
       function_length.py --self-test

A function's length runs from the first line of its definition (return type, or `template`) to
the line of its closing brace. Comments, string, character and raw string literals, and
preprocessor lines are blanked first, so braces inside them do not count. Lambdas and local
classes count within their enclosing function; member functions defined in a class body are
functions of their own, named Class::name. Standard library only.
"""

import argparse
import os
import re
import sys
import tempfile

DEFAULT_MAX = 60

# ---- blanking: the text with comments, literals and preprocessor lines turned into spaces ------

_RAW_PREFIX = re.compile(r'(?:u8|[uUL])?R"([^()\\\s]{0,16})\(')


def _number_token(text, i):
    """Whether the quote at i follows a number literal (a C++14 digit separator: 1'000'000)."""
    j = i
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] in "_.'"):
        j -= 1
    return j < i and text[j].isdigit()


def blank(text):
    """The same text, same length and line breaks, with everything that is not code made spaces."""
    out = list(text)
    n = len(text)
    i = 0
    line_start = True  # only whitespace since the last newline (for preprocessor lines)

    def wipe(a, b):
        for k in range(a, b):
            if out[k] != '\n':
                out[k] = ' '

    while i < n:
        c = text[i]
        if c == '\n':
            line_start = True
            i += 1
            continue
        if line_start and c == '#':
            j = i
            while j < n and text[j] != '\n':  # the directive, with its continuation lines
                if text[j] == '\\' and j + 1 < n and text[j + 1] == '\n':
                    j += 2
                    continue
                if text.startswith('/*', j):  # a block comment may run past the line
                    end = text.find('*/', j + 2)
                    j = n if end < 0 else end + 2
                    continue
                j += 1
            wipe(i, j)
            i = j
            continue
        if not c.isspace():
            line_start = False
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            wipe(i, j)
            i = j
            continue
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            wipe(i, j)
            i = j
            continue
        m = _RAW_PREFIX.match(text, i)
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == '_')):
            close = ')' + m.group(1) + '"'
            j = text.find(close, m.end())
            j = n if j < 0 else j + len(close)
            wipe(i + 1, j - 1)  # keep R" and the closing quote: "" stays an expression
            i = j
            continue
        if c == '"' or (c == "'" and not _number_token(text, i)):
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            wipe(i + 1, min(j, n))
            i = j + 1
            continue
        i += 1
    return ''.join(out)


# ---- declarations: which brace opens a function body ---------------------------------------

_ACCESS = re.compile(r'^\s*(?:(?:public|private|protected)\s*:(?!:)\s*)+')
_CLASS_KEY = re.compile(r'^\s*(?:typedef\s+)?(?:class|struct|union|enum)\b')
_NAMESPACE = re.compile(r'^\s*(?:inline\s+)?(?:namespace\b|extern\s*"\s*"\s*$)')
_OPERATOR = re.compile(r'\boperator\s*(\(\s*\)|\[\s*\]|<=>|->\*?|new\s*(?:\[\s*\])?|delete\s*(?:\[\s*\])?|'
                       r'""\s*\w+|[-+*/%^&|~!=<>,]+|[A-Za-z_][\w:<>\s*&]*?(?=\s*\())')
_QUALIFIERS = re.compile(r'^(?:\s*(?:const|volatile|&&|&|noexcept(?:\s*\([^)]*\))?|override|final|mutable|'
                         r'throw\s*\(\s*\)|\[\[[^\]]*\]\]|__attribute__\s*\(\([^)]*\)\)))*\s*'
                         r'(?P<tail>->.*|requires\b.*|try\s*|:(?!:).*)?$', re.S)
_NOT_A_NAME = {'if', 'for', 'while', 'switch', 'catch', 'return', 'sizeof', 'alignof', 'decltype', 'noexcept',
               'throw', 'requires', 'alignas', 'static_assert', '__attribute__', 'typeid'}


def _strip_template(h):
    """The header without a leading `template <...>` (angle brackets balanced), and its offset."""
    m = re.match(r'\s*template\s*<', h)
    if not m:
        return h, 0
    depth, i = 1, m.end()
    while i < len(h) and depth:
        depth += {'<': 1, '>': -1}.get(h[i], 0)
        i += 1
    rest, off = _strip_template(h[i:])
    return rest, i + off


def _paren_groups(h):
    """(open, close) offsets of the top-level parenthesis groups of a flat header."""
    groups, depth, start = [], 0, 0
    for i, c in enumerate(h):
        if c in '([':
            if depth == 0:
                start = i
            depth += 1
        elif c in ')]':
            depth -= 1
            if depth == 0 and c == ')':
                groups.append((start, i))
    return groups


def _top_level_assign(h):
    depth = 0
    for i, c in enumerate(h):
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
        elif c == '=' and depth == 0 and h[i - 1:i] not in ('=', '!', '<', '>') and h[i + 1:i + 2] != '=':
            return i
    return -1


def _last_name(s):
    m = re.search(r'((?:~?[A-Za-z_]\w*(?:\s*<[^(){};]*>)?\s*::\s*)*~?[A-Za-z_]\w*)\s*$', s)
    return re.sub(r'\s+', '', m.group(1)) if m else None


def classify(header):
    """What a '{' after this declaration-level header opens: ('namespace'|'class'|'other', name)
    or ('function', name); 'member-init' for a brace inside a constructor's initializer list."""
    h = _ACCESS.sub(lambda m: ' ' * len(m.group(0)), header)
    if _NAMESPACE.match(h):
        return 'namespace', None
    body, _ = _strip_template(h)
    body = re.sub(r'\[\[.*?\]\]', lambda m: ' ' * len(m.group(0)), body)
    if _CLASS_KEY.match(body):
        m = re.match(r'\s*(?:typedef\s+)?(?:class|struct|union|enum)\s+(?:class\s+|struct\s+)?'
                     r'(?:alignas\s*\([^)]*\)\s*)?([A-Za-z_]\w*)', body)
        return 'class', m.group(1) if m else None
    flat = _OPERATOR.sub(lambda m: 'operator' + '@' * (len(m.group(0)) - len('operator')), body)
    eq = _top_level_assign(flat)
    if eq >= 0:
        rhs = flat[eq + 1:]
        if re.match(r'\s*\[', rhs) and _paren_groups(rhs) and rhs.rstrip().endswith(')') or \
                re.match(r'\s*\[[^\]]*\]\s*(?:mutable\s*)?$', rhs):
            return 'function', _last_name(flat[:eq])  # a lambda bound to a name: a function too
        return 'other', None
    for open_, close in _paren_groups(flat):
        before = flat[:open_]
        op = re.search(r'((?:[A-Za-z_]\w*\s*::\s*)*operator)@*\s*$', before)
        name = re.sub(r'\s+', '', body[op.start(1):open_]) if op else _last_name(before)
        if not name or name.split('::')[-1] in _NOT_A_NAME:
            continue
        m = _QUALIFIERS.match(flat[close + 1:])
        if not m:
            continue
        tail = m.group('tail') or ''
        if tail.startswith(':'):
            # A constructor's initializer list: the body is the brace after a `)` or a `}`.
            last = flat.rstrip()[-1:]
            return ('function', name) if last in (')', '}') else ('member-init', None)
        return 'function', name
    return 'other', None


def _flatten(text, a, b):
    """text[a:b] with the inside of nested braces blanked (they were skipped as initializers)."""
    out, depth = [], 0
    for c in text[a:b]:
        if c == '}':
            depth -= 1
        out.append(c if depth == 0 or c == '\n' else ' ')
        if c == '{':
            depth += 1
    return ''.join(out)


def _after_block(text, i):
    """The offset just past the brace that closes the one opened before offset i."""
    depth, n = 1, len(text)
    while i < n and depth:
        depth += {'{': 1, '}': -1}.get(text[i], 0)
        i += 1
    return i


def functions(text):
    """(first line, last line, name) of every function definition, from blanked text."""
    found = []
    line_of = _line_index(text)
    scopes = []        # the namespaces and classes around the current declaration: [kind, name]
    header_start = 0   # where the declaration being read began
    paren = 0          # parenthesis depth inside that declaration
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in '([':
            paren += 1
        elif c in ')]':
            paren -= 1
        elif c == ';' and paren <= 0:
            header_start, paren = i + 1, 0
        elif c == '}':
            if scopes:
                scopes.pop()
            header_start, paren = i + 1, 0
        elif c == '{':
            header = _flatten(text, header_start, i)
            kind, name = ('other', None) if paren > 0 else classify(header)
            if kind in ('other', 'member-init'):
                i = _after_block(text, i + 1)  # an initializer: part of the declaration, skipped whole
                continue
            if kind != 'function':
                scopes.append([kind, name])
                header_start, paren = i + 1, 0
                i += 1
                continue
            # A function body, lambdas and local classes included: from the declaration's first
            # line (an access specifier before it aside) to the closing brace.
            outer = [s[1] for s in scopes if s[0] == 'class' and s[1]]
            name = name or '<lambda>'
            if outer and '::' not in name:
                name = '::'.join(outer + [name])
            access = _ACCESS.match(header)
            start = header_start + (len(access.group(0)) if access else 0)
            while start < i and text[start].isspace():
                start += 1
            end = _after_block(text, i + 1)
            found.append((line_of(start), line_of(end - 1), name))
            header_start, paren, i = end, 0, end
            continue
        i += 1
    return found


def _line_index(text):
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == '\n']

    def line_of(offset):
        lo, hi = 0, len(starts)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid
        return lo + 1
    return line_of


# ---- the command ----------------------------------------------------------------------------

def too_long(path, text, limit):
    out = []
    for first, last, name in functions(blank(text)):
        length = last - first + 1
        if length > limit:
            out.append(f'{path}:{first}: {name} is {length} lines (max {limit})')
    return out


def expand(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if f.endswith(('.cpp', '.hpp')):
                        yield os.path.join(root, f)
        else:
            yield p


def check(paths, limit):
    problems, count = [], 0
    files = list(expand(paths))
    for path in files:
        with open(path, encoding='utf-8', errors='replace') as f:
            text = f.read()
        count += len(functions(blank(text)))
        problems += too_long(path, text, limit)
    return files, count, problems


# ---- self-test ------------------------------------------------------------------------------

def _body(lines, name='f', prefix='void '):
    """A definition of exactly `lines` lines: header line, lines-2 statements, closing brace."""
    return prefix + name + '() {\n' + ''.join('    x();\n' for _ in range(lines - 2)) + '}\n'


def self_test():
    cases = []

    def case(label, source, expect):
        got = [(name, last - first + 1) for first, last, name in functions(blank(source))]
        cases.append((label, got == expect, got, expect))

    case('60 lines pass, 61 fail',
         _body(60, 'sixty') + _body(61, 'sixty_one'), [('sixty', 60), ('sixty_one', 61)])
    case('braces in strings, chars, comments, raw strings and #defines are ignored',
         'void f() {\n  auto s = "{{{";\n  char c = \'{\';\n  char q = \'\\\'\';\n  // }}}\n'
         '  /* { */\n  auto r = R"x( } )" )x";\n#define OPEN {\n  int n = 1\'000;\n  x("\\"}");\n}\n'
         'void g() {\n}\n', [('f', 11), ('g', 2)])
    case('lambdas count within their function',
         'int f() {\n  auto l = [](int a) {\n    return a;\n  };\n  return l(1);\n}\n', [('f', 6)])
    case('member functions in class bodies, namespaces, initializers, constructors',
         'namespace a::b {\nnamespace {\nint table[] = {1, 2};\n}\nstruct S : Base {\n'
         '  S(int x) : Base{x}, y_(x), z_{2} {\n    go();\n  }\n  int y_{0}, z_{1};\n'
         'public:\n  bool operator==(const S& o) const {\n    return y_ == o.y_;\n  }\n'
         '  struct Inner { void h() const noexcept { } };\n};\n'
         'template <typename T = int>\nauto S::get() const -> std::vector<T> {\n  return {};\n}\n}\n',
         [('S::S', 3), ('S::operator==', 3), ('S::Inner::h', 1), ('S::get', 4)])
    case('a lambda bound to a name at namespace scope is a function; control statements are not names',
         'auto cb = [](int a) {\n  if (a) {\n    for (;;) {\n    }\n  }\n};\n'
         'std::function<void(int)> make(Opts o = {}) {\n  return {};\n}\n',
         [('cb', 6), ('make', 3)])
    failed = [c for c in cases if not c[1]]
    for label, _, got, expect in failed:
        print(f'self-test FAILED: {label}\n  got      {got}\n  expected {expect}', file=sys.stderr)
    # The command end to end: a 61-line function fails with FILE:LINE, a 60-line one passes.
    with tempfile.TemporaryDirectory() as d:
        long_file = os.path.join(d, 'long.cpp')
        with open(long_file, 'w') as f:
            f.write('// x\n' + _body(60, 'ok') + _body(61, 'Cls::too_long'))
        _, _, problems = check([d], DEFAULT_MAX)
        want = [f'{long_file}:62: Cls::too_long is 61 lines (max 60)']
        if problems != want:
            failed.append(1)
            print(f'self-test FAILED: end to end\n  got      {problems}\n  expected {want}', file=sys.stderr)
    if failed:
        return 1
    print(f'self-test: {len(cases) + 1} cases passed')
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--max', type=int, default=DEFAULT_MAX, help='the longest a function may be, in lines')
    ap.add_argument('--self-test', action='store_true', help='check the checker on sample sources')
    ap.add_argument('paths', nargs='*')
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.paths:
        ap.error('no files given')
    files, count, problems = check(args.paths, args.max)
    for p in problems:
        print(p)
    if problems:
        print(f'{len(problems)} of {count} functions in {len(files)} files are longer than {args.max} lines; '
              'split them into well-named helpers', file=sys.stderr)
        return 1
    print(f'{count} functions in {len(files)} files, none longer than {args.max} lines')
    return 0


if __name__ == '__main__':
    sys.exit(main())
