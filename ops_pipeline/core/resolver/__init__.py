r"""Entity resolvers: map raw entity names (tables, topics, fields) to canonical ones with prioritised rules.

A resolver (`ResolverSpec`) holds rules of three types, told apart by `type`:

* `alias` - direct replacements from a mapping of alias -> canonical name;
* `pattern` - a regular expression and a `re` replacement template (`\1`, `\g<name>`);
* `transformation` - a chain of value transformations (`snake_case`, `strip_prefix`, `split_join`, ...).

Resolution semantics
--------------------
Rules are tried by priority, highest first; equal priorities keep their declaration order. The first rule
that matches decides the output, and the resolution's confidence is that rule's `confidence` (defaults:
alias 1.0, pattern 0.9, transformation 0.7).

* An alias rule matches when the input is one of its keys, compared case-insensitively (casefolded)
  unless `case_sensitive` is set.
* A pattern rule matches when its regex matches the whole input (`full_match`, the default; the output is
  the expanded replacement) or, with `full_match: false`, anywhere in it (every occurrence is replaced).
* A transformation rule matches when its optional `match` regex is found in the input (RE2: linear time) and
  every step applies; only `split_join` can fail to apply, when a requested field does not exist.

Inactive rules never decide: they appear in the trace, in priority order, as not matched with the reason
"inactive". When no rule matches, the output is the input unchanged, with no rule and confidence 0.0.
`Resolution.attempts` lists the rules in the order they were tried, up to and including the deciding one.

Case conversions split words at non-alphanumeric characters and at case changes, so `InvoiceLine`,
`invoiceLine`, `Invoice Line`, `INVOICE_LINE` and `invoice-line` all become `invoice_line`, and
`HTTPServerLog` becomes `http_server_log`.
"""

from ops_pipeline.core.resolver.engine import (
    INACTIVE,
    EntityResolver,
    Resolution,
    RuleAttempt,
    simulate,
)
from ops_pipeline.core.resolver.spec import (
    AffixStep,
    AliasRule,
    CaseStep,
    PatternRule,
    ReplaceStep,
    ResolverSpec,
    Rule,
    SplitJoinStep,
    Step,
    StepDidNotApply,
    TransformationRule,
)
from ops_pipeline.core.resolver.words import camel_case, pascal_case, snake_case, split_words

__all__ = [
    "INACTIVE",
    "AffixStep",
    "AliasRule",
    "CaseStep",
    "EntityResolver",
    "PatternRule",
    "ReplaceStep",
    "Resolution",
    "ResolverSpec",
    "Rule",
    "RuleAttempt",
    "SplitJoinStep",
    "Step",
    "StepDidNotApply",
    "TransformationRule",
    "camel_case",
    "pascal_case",
    "simulate",
    "snake_case",
    "split_words",
]
