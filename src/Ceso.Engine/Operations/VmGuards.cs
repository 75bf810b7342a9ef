using Ceso.Engine.Formats;
using Ceso.Engine.Model;
using Ceso.Engine.Security;

namespace Ceso.Engine.Operations;

/// <summary>The checks every operation makes before it plans anything: a usable new name, a VM that is not protected.</summary>
internal sealed class VmGuards(OperationContext context)
{
    private readonly ProtectionList _protection = new(context.Home);

    /// <summary>
    /// Refuses a name that cannot be a VM's. ESXi accepts almost anything as a display name, but the name is also the
    /// folder and file name on the datastore and appears in every host command: only characters that are safe
    /// everywhere are accepted (docs/decisions.md).
    /// </summary>
    public void ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 80 || name.Trim() != name
            || name.Any(c => !(char.IsLetterOrDigit(c) || c is ' ' or '.' or '_' or '-' or '(' or ')' or '+' or '@' or ',')))
        {
            throw context.Invalid("InvalidVmName",
                $"'{name}' cannot be a VM name: it is also its folder and file name on the datastore. Use up to 80 letters, digits, spaces and . _ - ( ) + @ , (no leading or trailing space).",
                name);
        }
    }

    /// <summary>Refuses to change the power state of a protected VM, naming the action in words.</summary>
    public void CheckNotProtected(CesoVm vm, PowerAction action) => CheckNotProtected(vm, action switch
    {
        PowerAction.Start => "power on",
        PowerAction.Shutdown => "shut down",
        PowerAction.Kill => "power off",
        _ => "reset",
    });

    /// <summary>Refuses to change a protected VM (by its notes tag or the local list), naming the protection and how to lift it.</summary>
    public void CheckNotProtected(CesoVm vm, string action)
    {
        if (vm.Annotation?.Contains(VmxIdentity.ProtectedTag, StringComparison.Ordinal) == true)
        {
            throw new CesoException("VmProtected", CesoErrorKind.InvalidState,
                $"'{vm.Name}' is protected (its notes carry {VmxIdentity.ProtectedTag}); Ceso will not {action} '{vm.Name}'. Lift the protection with Unprotect-CesoVm '{vm.Name}' if you mean it.")
            { Target = vm.Name, Host = context.Host };
        }

        if (_protection.IsListed(context.Host, vm.Name))
        {
            throw new CesoException("VmProtected", CesoErrorKind.InvalidState,
                $"'{vm.Name}' is protected (listed in {_protection.Path}); Ceso will not {action} '{vm.Name}'. Remove its line from that file if you mean it.")
            { Target = vm.Name, Host = context.Host };
        }
    }
}
