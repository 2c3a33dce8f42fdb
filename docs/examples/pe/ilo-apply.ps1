# ilo-apply.ps1 -File FILE [-IloOptions @('--url','https://ilo01','--ca-cert','ilo-ca.pem','-u','Administrator','--password-file','pw.txt')]
#
# The PowerShell form of ilo-apply.cmd, for WinPE with the WinPE-PowerShell optional component,
# or a Windows host: applies FILE (ilo-agent apply), restarts the server when a change waits for
# a reboot, waits for the end of POST, checks. Same exit codes as ilo-apply.sh.
# Windows PowerShell 5.1 drops the double quotes inside an argument it passes to a program
# ('{"ResetType":"On"}' arrives as {ResetType:On}), so request bodies go on standard input
# (--data-file -), not in --data.
param(
  [Parameter(Mandatory)] [string] $File,
  [string[]] $IloOptions = @(),
  [string] $IloAgent = 'X:\ilo-agent\ilo-agent.exe',
  [string] $System = '/redfish/v1/Systems/1',
  [string] $PostTimeout = '20m',
  # FinishedPost: "the server has booted the installed OS"; a server that boots no OS stops at
  # InPostDiscoveryComplete (HPE's HpeComputerSystemExt schema).
  [string] $PostDone = 'FinishedPost',
  [int] $ResetSeenWithin = 120,
  [string] $ResetType = 'ForceRestart'
)

function Ilo { & $IloAgent @IloOptions @args }
function Say([string] $Message) { [Console]::Error.WriteLine("ilo-apply: $Message") }
$outOfBand = ($IloOptions -contains '--url') -or [bool] $env:ILO_URL

$report = Ilo --output json apply --detailed-exit $File
switch ($LASTEXITCODE) {
  0 { Say "the iLO already matches $File"; exit 0 }
  13 { Say "applied $File; nothing waits for a reboot"; exit 0 }
  14 { }
  default { Say "apply failed (exit $LASTEXITCODE); ilo-agent doctor checks the way to the iLO"; exit $LASTEXITCODE }
}
if (-not ($report | ConvertFrom-Json).rebootRequired) {
  Say "an iLO reset is due: ilo-agent raw post /redfish/v1/Managers/1/Actions/Manager.Reset with {""ResetType"":""GracefulRestart""}"
  exit 14
}

$power = Ilo get $System --value PowerState
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
$before = Ilo get $System --value Oem.Hpe.PostState
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
$reset = if ($power -eq 'On') { $ResetType } else { 'On' }
Say "a reboot is due (power $power): ComputerSystem.Reset $reset"
@{ ResetType = $reset } | ConvertTo-Json -Compress |
  & $IloAgent @IloOptions raw post "$System/Actions/ComputerSystem.Reset" --data-file - | Out-Null
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
if (-not $outOfBand) { Say 'in-band: this system restarts now; run ilo-apply.ps1 again after the boot'; exit 14 }

# The reset is asynchronous: see the restart begin (PostState leaves what it was) before waiting.
$waited = 0
while ((Ilo get $System --value Oem.Hpe.PostState) -eq $before) {
  if ($waited -ge $ResetSeenWithin) { Say "PostState still $before after ${ResetSeenWithin}s: the restart was not seen; waiting anyway"; break }
  Start-Sleep -Seconds 5
  $waited += 5
}
Say "waiting up to $PostTimeout for PowerState=On and PostState=$PostDone"
Ilo wait $System PowerState=On "Oem.Hpe.PostState=$PostDone" --for $PostTimeout --interval 10s | Out-Null
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }

$report = Ilo --output json apply --check $File
switch ($LASTEXITCODE) {
  0 {
    if (($report | ConvertFrom-Json).rebootRequired) { Say 'POST finished, but values are still staged: this restart did not apply them'; exit 14 }
    Say "POST finished; the iLO matches $File"; exit 0
  }
  10 { Say "POST finished, but the iLO still differs from $File (a value refused at POST?):"; $report; exit 10 }
  default { exit $LASTEXITCODE }
}
