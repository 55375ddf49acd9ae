<?php
// Tell ssogate that a user's profile changed (PHP 8, standard library; the
// official Standard Webhooks library, composer require
// standard-webhooks/standard-webhooks, signs the same way).
//   SSOGATE_URL=https://sso.example.com SSOGATE_WEBHOOK_SECRET=whsec_… php send.php USER_ID 'New Name'

function profile_changed(string $userId, array $patch): array
{
    $gateway = getenv('SSOGATE_URL');
    $key = base64_decode(preg_replace('/^whsec_/', '', getenv('SSOGATE_WEBHOOK_SECRET')));
    $id = 'msg_' . bin2hex(random_bytes(16));
    $body = json_encode(['user_id' => $userId, 'patch' => $patch], JSON_UNESCAPED_SLASHES);
    $ts = (string) time();
    $sig = base64_encode(hash_hmac('sha256', "$id.$ts.$body", $key, true));
    $ctx = stream_context_create(['http' => [
        'method' => 'POST',
        'ignore_errors' => true,
        'header' => "Content-Type: application/json\r\n" .
            "webhook-id: $id\r\nwebhook-timestamp: $ts\r\nwebhook-signature: v1,$sig\r\n",
        'content' => $body,
    ]]);
    $answer = file_get_contents("$gateway/hooks/profile-changed", false, $ctx);
    preg_match('#^HTTP/\S+ (\d{3})#', $http_response_header[0], $m);
    $json = json_decode($answer, true);
    if ($m[1] !== '202') {
        throw new RuntimeException("webhook refused: {$m[1]} {$json['error']['code']}: {$json['error']['message']}");
    }
    return $json; // ['user_id' => …, 'version' => …, 'status' => …]
}

echo json_encode(profile_changed($argv[1], ['display_name' => $argv[2]])), "\n";
