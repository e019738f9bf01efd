// The limit inputs of a key dialog: one number field per limit, empty
// meaning unlimited. lib/limits.ts reads them back into the API's object.
import { Field, Input } from "./ui/input.tsx";
import { fieldName, limitFieldValue, type LimitSpec } from "../lib/limits.ts";

interface LimitFieldsProps {
  specs: LimitSpec[];
  /** The key's limits now; null for a new key. */
  limits?: { [key: string]: number | null | undefined } | null;
  legend?: string;
}

export function LimitFields({ specs, limits, legend = "Limits" }: LimitFieldsProps) {
  return (
    <fieldset className="grid gap-2">
      <legend className="mb-1 text-sm font-medium">{legend}</legend>
      <div className="grid grid-cols-2 gap-3">
        {specs.map(({ key, label, money }) => (
          <Field key={key} label={label}>
            {(id) => (
              <Input
                id={id}
                name={fieldName(key)}
                type="number"
                inputMode={money ? "decimal" : "numeric"}
                min={0}
                step={money ? "0.01" : 1}
                defaultValue={limitFieldValue(limits, key)}
                placeholder="unlimited"
              />
            )}
          </Field>
        ))}
      </div>
      <p className="text-xs text-muted-foreground">Empty is unlimited. Saving replaces every limit of the key.</p>
    </fieldset>
  );
}
