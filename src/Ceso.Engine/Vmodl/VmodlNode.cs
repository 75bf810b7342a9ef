using System.Globalization;

namespace Ceso.Engine.Vmodl;

/// <summary>
/// A value of the vSphere data model, as read from either transport: a SOAP response (XML) or a
/// <c>vim-cmd</c> dump (VMODL text). Both parsers produce this one tree so that one mapper turns it into
/// Ceso's objects, and the two transports cannot drift apart.
/// </summary>
public sealed class VmodlNode
{
    private static readonly IReadOnlyDictionary<string, VmodlNode> NoFields = new Dictionary<string, VmodlNode>();
    private static readonly IReadOnlyList<VmodlNode> NoItems = [];

    private VmodlNode(VmodlKind kind, string? type, string? scalar, IReadOnlyDictionary<string, VmodlNode>? fields, IReadOnlyList<VmodlNode>? items)
    {
        Kind = kind;
        Type = type;
        Scalar = scalar;
        Fields = fields ?? NoFields;
        Items = items ?? NoItems;
    }

    /// <summary>What the node holds.</summary>
    public VmodlKind Kind { get; }

    /// <summary>The data type when the source names it (<c>vim.vm.device.VirtualDisk</c> or <c>VirtualDisk</c>).</summary>
    public string? Type { get; }

    /// <summary>The text of a scalar (string, number, boolean, enum, date) or of a managed reference's value.</summary>
    public string? Scalar { get; }

    /// <summary>The fields of an object.</summary>
    public IReadOnlyDictionary<string, VmodlNode> Fields { get; }

    /// <summary>The elements of an array.</summary>
    public IReadOnlyList<VmodlNode> Items { get; }

    /// <summary>An unset value.</summary>
    public static VmodlNode Unset { get; } = new(VmodlKind.Unset, null, null, null, null);

    /// <summary>Creates a scalar.</summary>
    public static VmodlNode OfScalar(string text, string? type = null) => new(VmodlKind.Scalar, type, text, null, null);

    /// <summary>Creates a managed object reference.</summary>
    public static VmodlNode OfReference(string type, string value) => new(VmodlKind.Reference, type, value, null, null);

    /// <summary>Creates an object.</summary>
    public static VmodlNode OfObject(string? type, IReadOnlyDictionary<string, VmodlNode> fields) => new(VmodlKind.Object, type, null, fields, null);

    /// <summary>Creates an array.</summary>
    public static VmodlNode OfArray(string? type, IReadOnlyList<VmodlNode> items) => new(VmodlKind.Array, type, null, null, items);

    /// <summary>Follows a dotted path (<c>hardware.numCPU</c>); null when any step is missing or unset.</summary>
    public VmodlNode? Get(string path)
    {
        var node = this;
        foreach (var part in path.Split('.'))
        {
            if (node.Kind != VmodlKind.Object || !node.Fields.TryGetValue(part, out var next) || next.Kind == VmodlKind.Unset)
            {
                return null;
            }

            node = next;
        }

        return node;
    }

    /// <summary>
    /// The elements of an array, or the node itself as a one-element list. SOAP XML cannot tell a one-element array
    /// from a single value without the schema, so readers of arrays always go through this.
    /// </summary>
    public IReadOnlyList<VmodlNode> AsList() => Kind switch
    {
        VmodlKind.Array => Items,
        VmodlKind.Unset => NoItems,
        _ => [this],
    };

    /// <summary>The type name without its namespace (<c>vim.vm.device.VirtualDisk</c> → <c>VirtualDisk</c>).</summary>
    public string? ShortType => Type is null ? null : Type[(Type.LastIndexOf('.') + 1)..];

    /// <summary>String at a path, or null.</summary>
    public string? String(string path) => Get(path)?.Scalar;

    /// <summary>Integer at a path, or null.</summary>
    public long? Long(string path) =>
        long.TryParse(String(path), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>Boolean at a path, or null.</summary>
    public bool? Bool(string path) => String(path) switch
    {
        "true" => true,
        "false" => false,
        _ => null,
    };

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        VmodlKind.Scalar => Scalar!,
        VmodlKind.Reference => $"'{Type}:{Scalar}'",
        VmodlKind.Unset => "<unset>",
        VmodlKind.Array => $"({Type}) [{Items.Count}]",
        _ => $"({Type}) {{{string.Join(", ", Fields.Keys)}}}",
    };
}

/// <summary>The kinds of <see cref="VmodlNode"/>.</summary>
public enum VmodlKind
{
    /// <summary>No value.</summary>
    Unset,
    /// <summary>A string, number, boolean, enum or date.</summary>
    Scalar,
    /// <summary>A managed object reference.</summary>
    Reference,
    /// <summary>A data object with named fields.</summary>
    Object,
    /// <summary>An array.</summary>
    Array,
}
