using System.Text;

namespace Ceso.Engine.Vmodl;

/// <summary>
/// Reads the VMODL text that <c>vim-cmd</c> prints (<c>vim-cmd vmsvc/get.config 1</c> and friends), e.g.
/// <code>
/// (vim.vm.ConfigInfo) {
///    name = "web 01",
///    hardware = (vim.vm.VirtualHardware) { numCPU = 2, device = (vim.vm.device.VirtualDevice) [ … ] },
///    vm = 'vim.VirtualMachine:1',
///    cpuAllocation = &lt;unset&gt;,
/// }
/// </code>
/// Strings are double-quoted and printed raw (no escapes); references single-quoted <c>'type:value'</c>; numbers and
/// booleans bare; trailing commas are optional.
/// </summary>
public static class VmodlTextParser
{
    /// <summary>Parses one value (normally the whole output of a vim-cmd dump).</summary>
    /// <exception cref="FormatException">The text is not VMODL; the message names the position.</exception>
    public static VmodlNode Parse(string text)
    {
        // Several dumps start with a title ("Configuration:", "Listsummary:", "Guest information:") and a blank line.
        var first = text.IndexOf('(');
        var lineStart = first < 0 ? 0 : text.LastIndexOf('\n', first) + 1;
        if (first > 0 && text[lineStart..first].Trim().Length == 0)
        {
            text = text[first..];
        }

        var p = new Cursor(text);
        var node = p.Value();
        p.SkipSpace();
        if (!p.End)
        {
            throw p.Error("trailing text after the value");
        }

        return node;
    }

    private sealed class Cursor(string s)
    {
        private int _i;

        public bool End => _i >= s.Length;

        public FormatException Error(string what)
        {
            var line = 1 + s.AsSpan(0, Math.Min(_i, s.Length)).Count('\n');
            return new FormatException($"Unreadable vim-cmd output at line {line}: {what}.");
        }

        public void SkipSpace()
        {
            while (_i < s.Length && char.IsWhiteSpace(s[_i]))
            {
                _i++;
            }
        }

        private char Peek() => _i < s.Length ? s[_i] : '\0';

        private void Expect(char c)
        {
            SkipSpace();
            if (Peek() != c)
            {
                throw Error($"expected '{c}'");
            }

            _i++;
        }

        public VmodlNode Value()
        {
            SkipSpace();
            switch (Peek())
            {
                case '(':
                    var type = Until(')', 1);
                    SkipSpace();
                    if (Peek() == '{')
                    {
                        return ObjectBody(type);
                    }

                    if (Peek() == '[')
                    {
                        return ArrayBody(type);
                    }

                    // "(vim.vm.device.VirtualDevice) null" or a typed scalar such as "(long) 5".
                    var scalar = Value();
                    return scalar.Kind == VmodlKind.Scalar ? VmodlNode.OfScalar(scalar.Scalar!, type) : scalar;
                case '"':
                    return VmodlNode.OfScalar(QuotedString());
                case '\'':
                    var r = Until('\'', 1);
                    var colon = r.IndexOf(':');
                    return colon < 0 ? VmodlNode.OfScalar(r) : VmodlNode.OfReference(r[..colon], r[(colon + 1)..]);
                case '<':
                    var u = Until('>', 1);
                    return u == "unset" ? VmodlNode.Unset : throw Error($"unknown marker <{u}>");
                default:
                    var start = _i;
                    while (_i < s.Length && !char.IsWhiteSpace(s[_i]) && s[_i] is not (',' or '}' or ']'))
                    {
                        _i++;
                    }

                    if (_i == start)
                    {
                        throw Error("expected a value");
                    }

                    var word = s[start.._i];
                    return word == "null" ? VmodlNode.Unset : VmodlNode.OfScalar(word);
            }
        }

        private string Until(char close, int skipOpen)
        {
            _i += skipOpen;
            var end = s.IndexOf(close, _i);
            if (end < 0)
            {
                throw Error($"missing '{close}'");
            }

            var text = s[_i..end];
            _i = end + 1;
            return text;
        }

        // vim-cmd prints strings raw: no escapes, inner quotes and newlines as they are
        // ("Unable to find a VM corresponding to "16""). A quote ends the string only where the value can end:
        // before optional blanks and then ',', a newline, '}', ']' or the end of the text.
        private string QuotedString()
        {
            var start = ++_i; // after the opening quote
            while (true)
            {
                var q = s.IndexOf('"', _i);
                if (q < 0)
                {
                    throw Error("unterminated string");
                }

                var j = q + 1;
                while (j < s.Length && s[j] is ' ' or '\t' or '\r')
                {
                    j++;
                }

                if (j >= s.Length || s[j] is ',' or '\n' or '}' or ']')
                {
                    _i = q + 1;
                    return s[start..q];
                }

                _i = q + 1;
            }
        }

        private VmodlNode ObjectBody(string type)
        {
            Expect('{');
            var fields = new Dictionary<string, VmodlNode>(StringComparer.Ordinal);
            while (true)
            {
                SkipSpace();
                if (Peek() == '}')
                {
                    _i++;
                    return VmodlNode.OfObject(type, fields);
                }

                var start = _i;
                while (_i < s.Length && (char.IsLetterOrDigit(s[_i]) || s[_i] is '_' or '.'))
                {
                    _i++;
                }

                if (_i == start)
                {
                    throw Error("expected a field name");
                }

                var name = s[start.._i];
                Expect('=');
                fields[name] = Value();
                SkipComma();
            }
        }

        private VmodlNode ArrayBody(string type)
        {
            Expect('[');
            var items = new List<VmodlNode>();
            while (true)
            {
                SkipSpace();
                if (Peek() == ']')
                {
                    _i++;
                    return VmodlNode.OfArray(type, items);
                }

                items.Add(Value());
                SkipComma();
            }
        }

        private void SkipComma()
        {
            SkipSpace();
            if (Peek() == ',')
            {
                _i++;
            }
        }
    }
}
