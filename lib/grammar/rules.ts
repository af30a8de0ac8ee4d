/**
 * A grammar under construction: rules with unique, valid GBNF names, added in order.
 */
import { ref, type GbnfExpr, type GbnfGrammar, type GbnfRef } from './gbnf.js';

/** Turns any text into a GBNF rule name (`[a-zA-Z0-9-]+`). */
export function ruleName(hint: string): string {
  const name = hint.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return name === '' ? 'r' : name;
}

export class RuleSet {
  private readonly exprs = new Map<string, GbnfExpr | null>();

  /**
   * Reserves a fresh name made from `hint` (a numeric suffix keeps it unique) and returns a
   * reference to it; the rule's body is given later with {@link define}, so rules can recurse.
   */
  reserve(hint: string): GbnfRef {
    const base = ruleName(hint);
    let name = base;
    for (let i = 2; this.exprs.has(name) || name === 'root'; i++) name = `${base}-${i}`;
    this.exprs.set(name, null);
    return ref(name);
  }

  define(r: GbnfRef, expr: GbnfExpr): GbnfRef {
    this.exprs.set(r.name, expr);
    return r;
  }

  /** A new rule `hint ::= expr`, as a reference. */
  add(hint: string, expr: GbnfExpr): GbnfRef {
    return this.define(this.reserve(hint), expr);
  }

  has(name: string): boolean {
    return this.exprs.has(name);
  }

  /** The grammar, `root` first; every reserved rule must have been defined. */
  grammar(root: GbnfExpr): GbnfGrammar {
    const rules = [{ name: 'root', expr: root }];
    for (const [name, expr] of this.exprs) {
      if (expr === null) throw new Error(`RuleSet: rule ${name} was reserved but never defined`);
      rules.push({ name, expr });
    }
    return { rules };
  }
}
