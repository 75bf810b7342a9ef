namespace Ceso.Engine.Formats;

/// <summary>
/// Where the bytes of a new identity (BIOS UUID, MACs) come from. The .vmx format only shapes them; which bytes a
/// plan gets is Planning's business (IdentitySeed: derived from the installation key and the
/// request, so re-planning gives the same identity). An interface, so Formats depends on no layer above it.
/// </summary>
public interface IIdentitySource
{
    /// <summary><paramref name="count"/> bytes for one purpose ("bios-uuid", "mac-0", …): the same purpose, the same bytes.</summary>
    byte[] Bytes(string purpose, int count);
}
