@echo off
rem ilo-apply.cmd FILE
rem   Brings the iLO to FILE (an ilo-agent apply file), restarts the server when a change waits
rem   for a reboot (a BIOS attribute staged in the settings object), and waits until the server
rem   is on and has finished POST. cmd.exe only (bare WinPE has no PowerShell), no JSON parser:
rem   single values come from "ilo-agent get --value", through a file and "set /p".
rem   ILO_OPTS: global options for every call, e.g.
rem     set ILO_OPTS=--url https://ilo01 --ca-cert X:\ilo-agent\ilo-ca.pem -u Administrator --password-file X:\ilo-password.txt
rem   Without --url (or ILO_URL): in-band, this server's iLO. The restart then takes WinPE down
rem   (exit 14): run the script again after the boot (e.g. from startnet.cmd), when apply finds
rem   the values current (exit 0). Out-of-band it waits for the end of POST, then checks.
rem   Exit codes as ilo-apply.sh: 0 done; 14 restart requested in-band, an iLO reset due, or
rem   values still staged after the restart; 10 something still differs after it; 12 POST did
rem   not finish in ILO_POST_TIMEOUT; else ilo-agent's code ("ilo-agent doctor" says why).
setlocal EnableExtensions
rem After a failed call: "if errorlevel 1 exit /b %ERRORLEVEL%" on its own line, which expands
rem ERRORLEVEL once the call is done; "ilo-agent.exe ... || exit /b" ended with 0 under Wine's cmd.exe.
if "%~1"=="" (
  echo usage: ilo-apply.cmd FILE 1>&2
  exit /b 2
)
set "FILE=%~1"
rem By default the ilo-agent.exe beside this script (the image's folder, e.g. X:\ilo-agent\).
if not defined ILO_AGENT set "ILO_AGENT=%~dp0ilo-agent.exe"
if not defined ILO_SYSTEM set "ILO_SYSTEM=/redfish/v1/Systems/1"
if not defined ILO_POST_TIMEOUT set "ILO_POST_TIMEOUT=20m"
rem FinishedPost: "the server has booted the installed OS" (HPE's schema); a server that boots no
rem OS stops at InPostDiscoveryComplete: set ILO_POST_DONE to that.
if not defined ILO_POST_DONE set "ILO_POST_DONE=FinishedPost"
if not defined ILO_RESET_SEEN_WITHIN set "ILO_RESET_SEEN_WITHIN=120"
set "REPORT=%TEMP%\ilo-apply-report.json"
set "VALUE=%TEMP%\ilo-apply-value.txt"
set "OOB="
if defined ILO_URL set "OOB=yes"
echo %ILO_OPTS% | findstr /c:"--url" >nul && set "OOB=yes"

"%ILO_AGENT%" %ILO_OPTS% --output json apply --detailed-exit "%FILE%" > "%REPORT%"
set "RC=%ERRORLEVEL%"
if "%RC%"=="0" (
  echo ilo-apply: the iLO already matches %FILE% 1>&2
  exit /b 0
)
if "%RC%"=="13" (
  echo ilo-apply: applied %FILE%; nothing waits for a reboot 1>&2
  exit /b 0
)
if not "%RC%"=="14" (
  echo ilo-apply: apply failed ^(exit %RC%^); ilo-agent doctor checks the way to the iLO 1>&2
  exit /b %RC%
)
rem 14: a reboot or an iLO reset is due; the one-line report says which.
findstr /c:"\"rebootRequired\":true" "%REPORT%" >nul
if errorlevel 1 (
  echo ilo-apply: an iLO reset is due: ilo-agent raw post /redfish/v1/Managers/1/Actions/Manager.Reset --data "{\"ResetType\":\"GracefulRestart\"}" 1>&2
  exit /b 14
)

"%ILO_AGENT%" %ILO_OPTS% get %ILO_SYSTEM% --value PowerState > "%VALUE%"
if errorlevel 1 exit /b %ERRORLEVEL%
set "POWER="
set /p POWER=<"%VALUE%"
"%ILO_AGENT%" %ILO_OPTS% get %ILO_SYSTEM% --value Oem.Hpe.PostState > "%VALUE%"
if errorlevel 1 exit /b %ERRORLEVEL%
set "BEFORE="
set /p BEFORE=<"%VALUE%"
if "%POWER%"=="On" (set "RESET=ForceRestart") else (set "RESET=On")
if "%POWER%"=="On" if defined ILO_RESET_TYPE set "RESET=%ILO_RESET_TYPE%"
echo ilo-apply: a reboot is due (power %POWER%): ComputerSystem.Reset %RESET% 1>&2
"%ILO_AGENT%" %ILO_OPTS% raw post %ILO_SYSTEM%/Actions/ComputerSystem.Reset --data "{\"ResetType\":\"%RESET%\"}" >nul
if errorlevel 1 exit /b %ERRORLEVEL%
if not defined OOB (
  echo ilo-apply: in-band: this system restarts now; run ilo-apply.cmd again after the boot 1>&2
  exit /b 14
)

rem The reset is asynchronous: for a moment the iLO may still show the last POST as finished.
rem See the restart begin (PostState leaves what it was before) before waiting for POST's end.
set /a WAITED=0
:seepost
"%ILO_AGENT%" %ILO_OPTS% get %ILO_SYSTEM% --value Oem.Hpe.PostState > "%VALUE%"
set "POST="
set /p POST=<"%VALUE%"
if not "%POST%"=="%BEFORE%" goto waitpost
if %WAITED% GEQ %ILO_RESET_SEEN_WITHIN% (
  echo ilo-apply: PostState still %BEFORE% after %ILO_RESET_SEEN_WITHIN%s: the restart was not seen; waiting anyway 1>&2
  goto waitpost
)
rem WinPE may lack timeout.exe: ping waits about 1 s between its 6 echoes.
ping -n 6 127.0.0.1 >nul
set /a WAITED+=5
goto seepost

:waitpost
echo ilo-apply: waiting up to %ILO_POST_TIMEOUT% for PowerState=On and PostState=%ILO_POST_DONE% 1>&2
"%ILO_AGENT%" %ILO_OPTS% wait %ILO_SYSTEM% PowerState=On Oem.Hpe.PostState=%ILO_POST_DONE% --for %ILO_POST_TIMEOUT% --interval 10s >nul
if errorlevel 1 exit /b %ERRORLEVEL%

rem POST applied the staged values: they are current now, and the settings object matches.
"%ILO_AGENT%" %ILO_OPTS% --output json apply --check "%FILE%" > "%REPORT%"
set "RC=%ERRORLEVEL%"
if "%RC%"=="10" (
  echo ilo-apply: POST finished, but the iLO still differs from %FILE% ^(a value refused at POST?^): 1>&2
  type "%REPORT%"
  exit /b 10
)
if not "%RC%"=="0" exit /b %RC%
findstr /c:"\"rebootRequired\":true" "%REPORT%" >nul
if not errorlevel 1 (
  echo ilo-apply: POST finished, but values are still staged: this restart did not apply them 1>&2
  exit /b 14
)
echo ilo-apply: POST finished; the iLO matches %FILE% 1>&2
exit /b 0
